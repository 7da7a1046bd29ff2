export function FieldsPage() {
  return null;
}

export default function PortalRoutes() {
  return null;
}

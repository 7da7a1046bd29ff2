// Uploads: a picture goes from the browser straight to the file store. Ask the server for a
// presigned address (signed for the file's type and exact size), PUT the file there, then
// ask the server to complete it (it checks what arrived and counts it against the plan's
// storage). The server answers a short-lived address to show it.
import { api, call, type Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';

export type UploadPurpose = 'activity_cover' | 'activity_photo' | 'mall_item' | 'member_avatar';
export type Upload = Schemas['Upload'];

/** The types and size the server takes (`core::uploads`). */
export const PICTURE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const MAX_PICTURE_BYTES = 5 * 1024 * 1024;

/** A problem of our own words when the store itself refused the file. */
function storeRefused(status: number): ApiProblem {
  return new ApiProblem(status, {
    code: 'upload_not_received',
    message: `the file store answered ${status}`,
  });
}

/** Sends `file` to a presigned address with exactly the signed headers. */
export async function putToStore(
  url: string,
  headers: Record<string, string>,
  file: Blob,
): Promise<void> {
  const sent = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    // The browser sets these itself from the body.
    if (k.toLowerCase() === 'content-length' || k.toLowerCase() === 'host') continue;
    sent.set(k, v);
  }
  const r = await fetch(url, { method: 'PUT', headers: sent, body: file });
  if (!r.ok) throw storeRefused(r.status);
}

/** Uploads a picture for `purpose`: its upload and a short-lived address to show it. */
export async function uploadPicture(
  file: File,
  purpose: UploadPurpose,
): Promise<{ upload: Upload; url: string }> {
  const ticket = await call(
    api.POST('/uploads', {
      body: {
        purpose,
        content_type: file.type as (typeof PICTURE_TYPES)[number],
        size: file.size,
        file_name: file.name || 'picture',
      },
    }),
  );
  await putToStore(ticket.put_url, ticket.put_headers, file);
  return call(api.POST('/uploads/{id}/complete', { params: { path: { id: ticket.upload.id } } }));
}

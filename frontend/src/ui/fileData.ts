/** A chosen file as the API's media object: base64 data, type and name. */
export async function fileToMedia(file: File, caption: string): Promise<{ mimetype: string; data_base64: string; filename: string; caption?: string }> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  const media = { mimetype: file.type || 'application/octet-stream', data_base64: btoa(binary), filename: file.name };
  return caption ? { ...media, caption } : media;
}

/** The server's default body limit is 16 MiB; base64 grows a file by a third. */
export const MAX_FILE_BYTES = 12 * 1024 * 1024;

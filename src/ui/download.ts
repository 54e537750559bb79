/** Saves text or bytes as a file through the browser's download, as "Save link as" would. */
export function download(filename: string, data: BlobPart | BlobPart[], type: string): void {
  const url = URL.createObjectURL(new Blob(Array.isArray(data) ? data : [data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once started; revoke after the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

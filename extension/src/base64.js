// Bytes as base64 and back: extension messages are JSON, so the bodies the
// extension-hosted module converts (R10) travel as base64 between the
// bridge and the offscreen host.

/** toBase64 encodes bytes. */
export function toBase64(u8) {
  if (u8.toBase64) return u8.toBase64();
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}

/** fromBase64 decodes base64 (Chromium before 140 lacks Uint8Array.fromBase64). */
export function fromBase64(b64) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

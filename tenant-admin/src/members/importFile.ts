// Reading the header row of an import file in the browser, to map its columns before upload.
// The file itself goes to the server whole; only the first row is read here.

/** Splits one CSV line (RFC 4180 quoting; a comma or semicolon separator). */
export function splitCsvLine(line: string): string[] {
  const sep = !line.includes(',') && line.includes(';') ? ';' : ',';
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** The header row of a CSV text. */
export function csvHeader(text: string): string[] {
  const body = text.replace(/^\uFEFF/, '');
  // The first line, allowing quoted line breaks.
  let end = 0;
  let quoted = false;
  for (; end < body.length; end++) {
    const c = body[end];
    if (c === '"') quoted = !quoted;
    else if ((c === '\n' || c === '\r') && !quoted) break;
  }
  return splitCsvLine(body.slice(0, end)).filter((h) => h !== '');
}

/** Where each member field is guessed from a header: its key, or its label in either language. */
export function guessTarget(header: string, targets: readonly { value: string; names: readonly string[] }[]): string {
  const h = header.trim().toLowerCase();
  const hit = targets.find((t) => t.value.toLowerCase() === h || t.names.some((n) => n.trim().toLowerCase() === h));
  return hit ? hit.value : '-';
}

// XLSX is a zip of XML parts: the first sheet's first row, with shared strings resolved.
async function unzipEntry(buf: ArrayBuffer, name: string): Promise<string | undefined> {
  const view = new DataView(buf);
  // End of central directory: scan back for its signature.
  let eocd = -1;
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const dec = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (view.getUint32(p, true) !== 0x02014b50) return undefined;
    const method = view.getUint16(p + 10, true);
    const size = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const entry = dec.decode(new Uint8Array(buf, p + 46, nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (entry !== name) continue;
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = new Uint8Array(buf, start, size);
    if (method === 0) return dec.decode(data);
    if (method !== 8) return undefined;
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return await new Response(stream).text();
  }
  return undefined;
}

/** The header row of the first sheet of an XLSX file; undefined when it cannot be read here. */
export async function xlsxHeader(buf: ArrayBuffer): Promise<string[] | undefined> {
  try {
    const sheet = (await unzipEntry(buf, 'xl/worksheets/sheet1.xml')) ?? undefined;
    if (!sheet) return undefined;
    const shared = await unzipEntry(buf, 'xl/sharedStrings.xml');
    const parser = new DOMParser();
    const strings = shared
      ? [...parser.parseFromString(shared, 'application/xml').getElementsByTagName('si')].map((si) =>
          [...si.getElementsByTagName('t')].map((t) => t.textContent ?? '').join(''),
        )
      : [];
    const doc = parser.parseFromString(sheet, 'application/xml');
    const row = doc.getElementsByTagName('row')[0];
    if (!row) return [];
    return [...row.getElementsByTagName('c')]
      .map((c) => {
        const type = c.getAttribute('t');
        if (type === 'inlineStr') return c.getElementsByTagName('t')[0]?.textContent ?? '';
        const v = c.getElementsByTagName('v')[0]?.textContent ?? '';
        return type === 's' ? (strings[Number(v)] ?? '') : v;
      })
      .map((s) => s.trim())
      .filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

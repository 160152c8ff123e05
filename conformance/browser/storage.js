// Everything an origin keeps in the browser, read from a page of that origin that the suite
// serves itself (so reading never depends on the app answering a path of the suite's choosing).
// Returns {localStorage, sessionStorage, indexedDB, cacheStorage: {key: text}, unread: [why]}.
async (maxBytes) => {
  const out = { localStorage: {}, sessionStorage: {}, indexedDB: {}, cacheStorage: {}, unread: [] };
  let budget = maxBytes;
  const keep = (store, key, text) => {
    const value = String(text);
    if (budget <= 0) return;
    out[store][key] = value.slice(0, budget);
    budget -= value.length;
  };
  const bytesToText = (bytes) => {
    let text = "";
    for (let i = 0; i < bytes.length; i += 1) text += String.fromCharCode(bytes[i]);
    return text;
  };
  // Structured-clone values (IndexedDB) as text: strings stay strings, binary becomes latin-1,
  // so a token stored in any shape is still a run of its bytes.
  const asText = async (value, depth = 0) => {
    if (value === null || value === undefined) return String(value);
    if (typeof value === "string") return value;
    if (typeof value !== "object") return String(value);
    if (depth > 16) return "";
    if (value instanceof ArrayBuffer) return bytesToText(new Uint8Array(value));
    if (ArrayBuffer.isView(value)) return bytesToText(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    if (value instanceof Blob) return await value.text();
    if (value instanceof Date) return value.toISOString();
    const entries = value instanceof Map ? [...value.entries()] : Array.isArray(value) || value instanceof Set ? [...value].map((v, i) => [i, v]) : Object.entries(value);
    const parts = [];
    for (const [k, v] of entries) parts.push(`${await asText(k, depth + 1)}: ${await asText(v, depth + 1)}`);
    return `{${parts.join(", ")}}`;
  };
  for (const [name, area] of [["localStorage", () => window.localStorage], ["sessionStorage", () => window.sessionStorage]]) {
    try {
      const storage = area();
      for (let i = 0; i < storage.length; i += 1) {
        const key = storage.key(i);
        keep(name, key, storage.getItem(key));
      }
    } catch (error) {
      out.unread.push(`${name}: ${error}`);
    }
  }
  try {
    const request = (db, store) => new Promise((resolve, reject) => {
      const tx = db.transaction(store, "readonly");
      const objects = tx.objectStore(store);
      const values = objects.getAll();
      const keys = objects.getAllKeys();
      tx.oncomplete = () => resolve([keys.result, values.result]);
      tx.onerror = () => reject(tx.error);
    });
    for (const info of await indexedDB.databases()) {
      const db = await new Promise((resolve, reject) => {
        const opening = indexedDB.open(info.name);
        opening.onsuccess = () => resolve(opening.result);
        opening.onerror = () => reject(opening.error);
        opening.onupgradeneeded = () => opening.transaction.abort(); // never create what is not there
      });
      try {
        for (const store of db.objectStoreNames) {
          const [keys, values] = await request(db, store);
          for (let i = 0; i < values.length; i += 1) {
            const key = await asText(keys[i]);
            keep("indexedDB", `${info.name}/${store}/${key}`, `${key} ${await asText(values[i])}`);
          }
        }
      } finally {
        db.close();
      }
    }
  } catch (error) {
    out.unread.push(`IndexedDB: ${error}`);
  }
  if (window.isSecureContext && typeof caches !== "undefined") {
    try {
      for (const cacheName of await caches.keys()) {
        const cache = await caches.open(cacheName);
        for (const entry of await cache.keys()) {
          const response = await cache.match(entry);
          const headers = response ? [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n") : "";
          const body = response ? await response.text() : "";
          keep("cacheStorage", `${cacheName} ${entry.url}`, `${entry.url}\n${headers}\n\n${body}`);
        }
      }
    } catch (error) {
      out.unread.push(`Cache Storage: ${error}`);
    }
  }
  if (budget <= 0) out.unread.push(`more than ${maxBytes} characters of storage: the rest was not read`);
  return out;
}

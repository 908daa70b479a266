/**
 * Content-Type by file extension. A table of the types a web server meets, not a MIME database:
 * mime-db's 2,000 entries (what `mime-types` loads) cost a 200 KB JSON parse at start-up for
 * types no site serves, and a lookup here is one Map access. Text types carry `charset=utf-8`,
 * as Go's mime.TypeByExtension gives them to Caddy.
 */

const TEXT = '; charset=utf-8';

const TYPES = new Map<string, string>([
  // text
  ['.html', `text/html${TEXT}`],
  ['.htm', `text/html${TEXT}`],
  ['.css', `text/css${TEXT}`],
  ['.js', `text/javascript${TEXT}`],
  ['.mjs', `text/javascript${TEXT}`],
  ['.cjs', `text/javascript${TEXT}`],
  ['.txt', `text/plain${TEXT}`],
  ['.text', `text/plain${TEXT}`],
  ['.md', `text/markdown${TEXT}`],
  ['.markdown', `text/markdown${TEXT}`],
  ['.csv', `text/csv${TEXT}`],
  ['.tsv', `text/tab-separated-values${TEXT}`],
  ['.xml', `text/xml${TEXT}`],
  ['.vtt', `text/vtt${TEXT}`],
  ['.ics', `text/calendar${TEXT}`],
  ['.json', 'application/json'],
  ['.map', 'application/json'],
  ['.jsonld', 'application/ld+json'],
  ['.webmanifest', 'application/manifest+json'],
  ['.xhtml', `application/xhtml+xml${TEXT}`],
  ['.rss', `application/rss+xml${TEXT}`],
  ['.atom', `application/atom+xml${TEXT}`],
  ['.svg', 'image/svg+xml'],
  ['.wasm', 'application/wasm'],
  // images
  ['.png', 'image/png'],
  ['.jpg', 'image/jpeg'],
  ['.jpeg', 'image/jpeg'],
  ['.gif', 'image/gif'],
  ['.webp', 'image/webp'],
  ['.avif', 'image/avif'],
  ['.ico', 'image/vnd.microsoft.icon'],
  ['.bmp', 'image/bmp'],
  ['.tif', 'image/tiff'],
  ['.tiff', 'image/tiff'],
  // fonts
  ['.woff', 'font/woff'],
  ['.woff2', 'font/woff2'],
  ['.ttf', 'font/ttf'],
  ['.otf', 'font/otf'],
  // audio, video
  ['.mp3', 'audio/mpeg'],
  ['.ogg', 'audio/ogg'],
  ['.oga', 'audio/ogg'],
  ['.wav', 'audio/wav'],
  ['.flac', 'audio/flac'],
  ['.m4a', 'audio/mp4'],
  ['.aac', 'audio/aac'],
  ['.opus', 'audio/ogg'],
  ['.mp4', 'video/mp4'],
  ['.m4v', 'video/mp4'],
  ['.webm', 'video/webm'],
  ['.ogv', 'video/ogg'],
  ['.mov', 'video/quicktime'],
  ['.m3u8', 'application/vnd.apple.mpegurl'],
  ['.ts', 'video/mp2t'],
  // documents and archives
  ['.pdf', 'application/pdf'],
  ['.zip', 'application/zip'],
  ['.gz', 'application/gzip'],
  ['.tgz', 'application/gzip'],
  ['.br', 'application/x-brotli'],
  ['.zst', 'application/zstd'],
  ['.tar', 'application/x-tar'],
  ['.7z', 'application/x-7z-compressed'],
  ['.epub', 'application/epub+zip'],
  ['.doc', 'application/msword'],
  ['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['.xls', 'application/vnd.ms-excel'],
  ['.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['.ppt', 'application/vnd.ms-powerpoint'],
  ['.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  ['.odt', 'application/vnd.oasis.opendocument.text'],
  ['.rtf', 'application/rtf'],
  ['.yaml', `application/yaml${TEXT}`],
  ['.yml', `application/yaml${TEXT}`],
  ['.toml', `application/toml${TEXT}`],
]);

/**
 * What a file of unknown type is sent as. Caddy sends none (and stops Go from sniffing); Ferry's
 * writer would sniff one from the first bytes, so an explicit octet-stream says "download, do
 * not render", which is what no type means to a browser that does not sniff.
 */
export const UNKNOWN_TYPE = 'application/octet-stream';

/** The Content-Type for a file name, by its extension (case-insensitive). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot === -1 || name.indexOf('/', dot) !== -1) return UNKNOWN_TYPE;
  const ext = name.slice(dot);
  return TYPES.get(ext) ?? TYPES.get(ext.toLowerCase()) ?? UNKNOWN_TYPE;
}

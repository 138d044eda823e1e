/**
 * What the bundle gives node-fetch 2 (@kubernetes/client-node's HTTP client) in place of the `whatwg-url` package
 * (the `alias` of scripts/bundle.mjs). node-fetch only falls back to that package's URL where Node's own
 * `url.URL` is missing, which it never is on the Node.js we support; loading it anyway cost ~2.5 MB of heap (tr46's
 * Unicode mapping table) and a punycode deprecation warning on every start under Node 22.
 */
import { URL, URLSearchParams } from 'node:url';

export default { URL, URLSearchParams };

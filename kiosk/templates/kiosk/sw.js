/* The kiosk's service worker: the app itself comes from the cache when the network is down.
   Answers are not handled here: the page queues them in IndexedDB and sends them itself. */
'use strict';
const CACHE = 'kiosk-{{ version }}';
const ASSETS = {{ assets|tojson }};
const PAGE = ASSETS[0];

self.addEventListener('install', (event) => {
  {#- (A template comment: not sent to the kiosk.) The first install is started by a page
  that has just loaded the app from the network without a worker: the page has no Cache-Control
  and no validator, so it was downloaded, and kiosk.js/css were revalidated (no-cache). The HTTP
  cache therefore holds exactly what the page received: take those copies ('force-cache') instead
  of downloading the page a second time and revalidating its assets; anything not there (the
  audio prompts) is fetched. An update (an older worker is active and served the page from its
  own cache) fetches everything afresh. #}
  // First install: the copies the page just received; an update: fresh ones.
  const mode = self.registration.active ? 'no-cache' : 'force-cache';
  const requests = ASSETS.map((url) => new Request(url, { cache: mode }));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(requests)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('kiosk-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (err) => { clearTimeout(timer); reject(err); });
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(PAGE + 'api/')) return;  // live data: never from a cache
  if (request.mode === 'navigate') {
    // The page: fresh when the server answers soon, else the cached copy (works after a reboot).
    event.respondWith(
      withTimeout(fetch(request), 4000)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(PAGE, copy));
          }
          return response;
        })
        .catch(() => caches.match(PAGE).then((cached) => cached || Response.error()))
    );
    return;
  }
  event.respondWith(
    caches.match(request, { ignoreSearch: true }).then((cached) => cached || fetch(request))
  );
});

/* The counter kiosk: idle → faces → (detail questions) → thank you → idle.
 *
 * Nothing a citizen answers is lost: the answer in progress is kept in localStorage, a finished
 * answer goes to an IndexedDB queue (with the client UUID the server deduplicates on) and the
 * queue is sent in order, with backoff, whenever the server can be reached. 201/200 are done,
 * 409/422 are done-but-refused (kept in a local list for the staff screen), anything else is
 * tried again. No framework: plain DOM, under 100 KB with the CSS.
 */
(function () {
  'use strict';

  var CFG = JSON.parse(document.getElementById('kiosk-config').textContent);
  var app = document.getElementById('app');
  var KEY = {
    token: 'kiosk.token',
    state: 'kiosk.state',
    draft: 'kiosk.draft',
    revoked: 'kiosk.revoked',
    lastSync: 'kiosk.lastSync',
    lastRating: 'kiosk.lastRating',
    used: 'kiosk.usedDossiers'
  };

  var lang = CFG.default_lang;
  var token = localStorage.getItem(KEY.token);
  var state = readJSON(KEY.state);
  var revoked = localStorage.getItem(KEY.revoked) === '1';
  var screen = 'idle';
  var current = null; // the citizen's answer in progress
  var idleTimer = null;
  var thanksTimer = null;
  var voice = null; // the spoken prompt playing, if any: one at a time, and only on its screen

  // -- small helpers ----------------------------------------------------------------------

  function readJSON(key) {
    try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; }
  }
  function writeJSON(key, value) { localStorage.setItem(key, JSON.stringify(value)); }

  function T(key) { return CFG.texts[lang].ui[key] || CFG.texts[CFG.default_lang].ui[key] || key; }
  function form(id) { return CFG.texts[lang].forms[id]; }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (key === 'onclick') el.addEventListener('click', attrs[key]);
      else if (key === 'text') el.textContent = attrs[key];
      else if (attrs[key] !== null && attrs[key] !== undefined) el.setAttribute(key, attrs[key]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return el;
  }

  function show(name) {
    hush();
    screen = name;
    app.onclick = null;
    app.textContent = '';
    app.className = 'screen screen-' + name;
    document.documentElement.lang = lang;
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) app.appendChild(arguments[i]);
  }

  function uuid4() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b); // available without HTTPS, unlike crypto.randomUUID
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return hex.slice(0, 4).join('') + '-' + hex.slice(4, 6).join('') + '-' +
      hex.slice(6, 8).join('') + '-' + hex.slice(8, 10).join('') + '-' + hex.slice(10).join('');
  }

  function isoLocal(date) {
    // ISO 8601 with the device's own offset, e.g. 2026-10-05T08:41:07.250+07:00.
    function p(n, w) { return String(n).padStart(w || 2, '0'); }
    var off = -date.getTimezoneOffset();
    var sign = off >= 0 ? '+' : '-';
    off = Math.abs(off);
    return date.getFullYear() + '-' + p(date.getMonth() + 1) + '-' + p(date.getDate()) + 'T' +
      p(date.getHours()) + ':' + p(date.getMinutes()) + ':' + p(date.getSeconds()) + '.' +
      p(date.getMilliseconds(), 3) + sign + p(Math.floor(off / 60)) + ':' + p(off % 60);
  }

  function authHeaders() {
    return { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token };
  }

  function isRevokedAnswer(status, body) {
    return status === 401 && body && /revoked|unknown_device/.test(body.error || '');
  }

  // -- IndexedDB: the queue (in order) and the refused list ----------------------------------

  var dbPromise = new Promise(function (resolve, reject) {
    var req = indexedDB.open('kiosk', 1);
    req.onupgradeneeded = function () {
      req.result.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
      req.result.createObjectStore('refused', { keyPath: 'seq', autoIncrement: true });
    };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });

  function tx(stores, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(stores, mode);
        var result;
        work(t, function (value) { result = value; });
        t.oncomplete = function () { resolve(result); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }

  function enqueue(body) {
    return tx(['queue'], 'readwrite', function (t) {
      t.objectStore('queue').add({ body: body, queued_at: new Date().toISOString() });
    });
  }
  function firstQueued() {
    return tx(['queue'], 'readonly', function (t, done) {
      var req = t.objectStore('queue').openCursor();
      req.onsuccess = function () { done(req.result ? req.result.value : null); };
    });
  }
  function listStore(name) {
    return tx([name], 'readonly', function (t, done) {
      var req = t.objectStore(name).getAll();
      req.onsuccess = function () { done(req.result); };
    });
  }
  function markSent(item) {
    return tx(['queue'], 'readwrite', function (t) { t.objectStore('queue').delete(item.seq); });
  }
  function markRefused(item, status, error) {
    return tx(['queue', 'refused'], 'readwrite', function (t) {
      t.objectStore('queue').delete(item.seq);
      t.objectStore('refused').add({
        body: item.body, status: status, error: error, refused_at: new Date().toISOString()
      });
    });
  }

  // -- sending: in order, with backoff --------------------------------------------------------

  var draining = false;
  var again = false;
  var failures = 0;
  var retryTimer = null;

  function drain() {
    if (!token || revoked) return Promise.resolve();
    if (draining) { again = true; return Promise.resolve(); }
    draining = true;
    clearTimeout(retryTimer);
    return sendNext().then(function () {
      draining = false;
      if (again) { again = false; return drain(); }
    }, function () { draining = false; });
  }

  function sendNext() {
    return firstQueued().then(function (item) {
      if (!item) { failures = 0; return; }
      return fetch(CFG.urls.responses, {
        method: 'POST', headers: authHeaders(), body: JSON.stringify(item.body), cache: 'no-store'
      }).then(function (res) {
        if (res.status === 201 || res.status === 200) {
          failures = 0;
          localStorage.setItem(KEY.lastSync, isoLocal(new Date()));
          return markSent(item).then(sendNext);
        }
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.status === 409 || res.status === 422) {
            return markRefused(item, res.status, body.error || '').then(sendNext);
          }
          if (isRevokedAnswer(res.status, body)) { setRevoked(); return; }
          retryLater(res.headers.get('Retry-After'));
        });
      }, function () { retryLater(null); });
    });
  }

  function retryLater(retryAfter) {
    failures += 1;
    var wait = Math.min(CFG.retry_max_seconds, Math.pow(2, failures - 1)) * 1000;
    if (retryAfter && /^\d+$/.test(retryAfter)) wait = Math.max(wait, Number(retryAfter) * 1000);
    wait += Math.random() * 250;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(drain, wait);
  }

  function setRevoked() {
    revoked = true;
    localStorage.setItem(KEY.revoked, '1');
    clearTimeout(retryTimer);
    showRevoked();
  }

  // -- the server's view of the counter, and the heartbeat ------------------------------------

  function refreshState() {
    if (!token || revoked) return Promise.resolve();
    return fetch(CFG.urls.state, { headers: authHeaders(), cache: 'no-store' }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.ok) {
          state = body;
          writeJSON(KEY.state, state);
          if (screen === 'idle') showIdle();
          drain();
        } else if (isRevokedAnswer(res.status, body)) {
          setRevoked();
        }
      });
    }, function () { /* offline: keep the last known state */ });
  }

  function heartbeat() {
    if (!token || revoked) return Promise.resolve();
    return Promise.all([listStore('queue'), listStore('refused')]).then(function (lists) {
      var queue = lists[0];
      var body = {
        queue_length: queue.length,
        refused_count: lists[1].length,
        oldest_queued_at: queue.length ? queue[0].queued_at : null,
        last_sync_at: localStorage.getItem(KEY.lastSync),
        app_version: CFG.version
      };
      return fetch(CFG.urls.heartbeat, {
        method: 'POST', headers: authHeaders(), body: JSON.stringify(body), cache: 'no-store'
      }).then(function (res) {
        if (res.status === 401) {
          return res.json().then(function (b) { if (isRevokedAnswer(401, b)) setRevoked(); });
        }
      }, function () {});
    });
  }

  // -- the citizen's answer -------------------------------------------------------------------

  function usedDossiers() { return readJSON(KEY.used) || []; }

  function startAnswer() {
    var dossier = state.dossier_code;
    // A dossier already rated on this kiosk is not tied again (the server would refuse it).
    if (dossier && usedDossiers().indexOf(dossier) >= 0) dossier = null;
    var formId = state.form;
    if (formId === 'phieu2' && !dossier) formId = 'phieu1';
    current = {
      id: uuid4(),
      form: formId,
      dossier_code: dossier,
      officer: formId === 'phieu1' && state.officer ? state.officer.code : null,
      answers: {}
    };
  }

  function saveDraft() {
    if (current && current.answers.overall !== undefined) {
      current.answered_at = isoLocal(new Date());
      current.lang = lang;
      writeJSON(KEY.draft, current);
    }
  }

  function finish() {
    // The citizen is done (or walked away): the answer goes to the queue, exactly once.
    var answer = current;
    current = null;
    clearTimeout(idleTimer);
    if (!answer || answer.answers.overall === undefined) return;
    var body = {
      id: answer.id,
      form: answer.form,
      dossier_code: answer.dossier_code,
      officer: answer.officer,
      answers: answer.answers,
      answered_at: isoLocal(new Date()),
      lang: lang
    };
    commit(body);
  }

  function commit(body) {
    if (body.dossier_code) {
      var used = usedDossiers().concat([body.dossier_code]).slice(-50);
      writeJSON(KEY.used, used);
    }
    enqueue(body).then(function () {
      var draft = readJSON(KEY.draft);
      if (draft && draft.id === body.id) localStorage.removeItem(KEY.draft);
      drain();
    });
  }

  function recoverDraft() {
    // The page was closed in the middle of an answer (a reboot, a crash): send what it had.
    var draft = readJSON(KEY.draft);
    if (!draft || !draft.answers || draft.answers.overall === undefined) return;
    commit({
      id: draft.id, form: draft.form, dossier_code: draft.dossier_code, officer: draft.officer,
      answers: draft.answers, answered_at: draft.answered_at, lang: draft.lang || CFG.default_lang
    });
  }

  function armIdle(seconds) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () {
      if (screen === 'faces' || screen === 'question' || screen === 'more') {
        finish();
        backToIdle();
      }
    }, (seconds || CFG.idle_seconds) * 1000);
  }

  function backToIdle() {
    clearTimeout(thanksTimer);
    clearTimeout(idleTimer);
    current = null;
    lang = CFG.default_lang;
    showIdle();
  }

  // -- screens --------------------------------------------------------------------------------

  function langSwitch() {
    var bar = h('nav', { class: 'langs', 'aria-label': 'Language' });
    CFG.languages.forEach(function (l) {
      bar.appendChild(h('button', {
        type: 'button', class: 'lang' + (l.code === lang ? ' active' : ''), lang: l.code,
        'data-lang': l.code, 'aria-pressed': l.code === lang ? 'true' : 'false',
        onclick: function (ev) {
          ev.stopPropagation();
          lang = l.code;
          rerender();
        }
      }, l.name));
    });
    return bar;
  }

  function rerender() {
    if (screen === 'idle') showIdle();
    else if (screen === 'faces') showFaces();
    else if (screen === 'more') showMore();
    else if (screen === 'question') showQuestion(current.step);
    else if (screen === 'thanks') showThanks(false);
  }

  function speaker(question) {
    if (!question.audio) return null;
    return h('button', {
      type: 'button', class: 'speaker', 'aria-label': T('listen'),
      onclick: function (ev) {
        ev.stopPropagation();
        hush(); // a second tap starts the prompt again rather than a second voice over it
        voice = new Audio(question.audio);
        voice.play().catch(function () {}); // no sound device: the kiosk works on, silent
        armIdle();
      }
    }, '🔊 ' + T('listen'));
  }

  function hush() {
    if (voice) voice.pause();
    voice = null;
  }

  function officerCard() {
    if (!state || !state.officer) return null;
    var o = state.officer;
    var initials = o.name.split(/\s+/).slice(-1)[0].charAt(0);
    var photo = o.photo ? h('img', { class: 'photo', src: o.photo, alt: '' })
      : h('div', { class: 'photo initials', 'aria-hidden': 'true' }, initials);
    return h('div', { class: 'officer' }, photo,
      h('div', null, h('div', { class: 'muted', text: T('on_duty') }),
        h('div', { class: 'officer-name', id: 'officer-name', text: o.name }),
        o.title ? h('div', { class: 'muted', text: o.title }) : null));
  }

  function staffButton() {
    return h('button', {
      type: 'button', class: 'staff-button', id: 'staff-button', 'aria-label': T('staff'),
      onclick: function (ev) { ev.stopPropagation(); showStaff(); }
    }, '⚙');
  }

  function showIdle() {
    if (revoked) return showRevoked();
    if (!token) return showPairing();
    var open = !!(state && state.form);
    var counter = state ? h('div', { class: 'counter', text: state.counter.name }) : null;
    var body;
    if (open) {
      body = h('div', { class: 'invite', id: 'invite' },
        h('h1', { text: T('idle_title') }),
        h('p', { class: 'touch', text: T('idle_touch') }));
    } else {
      body = h('div', { class: 'invite closed', id: 'no-shift' }, h('p', { text: T('no_shift') }));
    }
    var dossier = open && state.dossier_code && usedDossiers().indexOf(state.dossier_code) < 0
      ? h('p', { class: 'muted dossier', text: fill(T('dossier'), { code: state.dossier_code }) })
      : null;
    show('idle', langSwitch(), counter, officerCard(), body, dossier, staffButton());
    if (open) {
      app.onclick = function () { app.onclick = null; startAnswer(); showFaces(); };
    } else {
      app.onclick = null;
    }
  }

  var FACE_COLOURS = ['#b3261e', '#d9480f', '#8a6d00', '#2b8a3e', '#0b7a3e'];

  function faceSvg(level) {
    // level 1..5: the mouth goes from a frown to a broad smile.
    var curve = [-14, -7, 0, 8, 16][level - 1];
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 100 100');
    svg.setAttribute('aria-hidden', 'true');
    svg.innerHTML = '<circle cx="50" cy="50" r="46" fill="' + FACE_COLOURS[level - 1] + '"/>' +
      '<circle cx="35" cy="40" r="6" fill="#fff"/><circle cx="65" cy="40" r="6" fill="#fff"/>' +
      '<path d="M30 ' + (68 - curve / 2) + ' Q50 ' + (68 + curve) + ' 70 ' + (68 - curve / 2) +
      '" stroke="#fff" stroke-width="6" fill="none" stroke-linecap="round"/>';
    return svg;
  }

  function showFaces() {
    app.onclick = null;
    var f = form(current.form);
    var q = f.questions[0];
    var faces = h('div', { class: 'faces', role: 'group' });
    q.options.forEach(function (option) {
      var level = Number(option.value);
      faces.appendChild(h('button', {
        type: 'button', class: 'face', 'data-value': option.value,
        onclick: function () { rate(level); }
      }, faceSvg(level), h('span', { text: option.label })));
    });
    var note = h('p', { class: 'note', id: 'note', role: 'status' });
    show('faces', langSwitch(), h('h1', { class: 'question', text: q.text }), speaker(q), faces,
      note);
    armIdle();
  }

  function rate(level) {
    var last = Number(localStorage.getItem(KEY.lastRating) || 0);
    var now = Date.now();
    if (now - last < CFG.min_interval_seconds * 1000 && now >= last) {
      document.getElementById('note').textContent = T('too_soon');
      return; // a tap inside the minimum interval: ignored, gently
    }
    localStorage.setItem(KEY.lastRating, String(now));
    current.answers.overall = level;
    saveDraft();
    var details = form(current.form).questions.length > 1;
    if (details) showMore(); else { finish(); showThanks(true); }
  }

  function showMore() {
    var f = form(current.form);
    show('more', langSwitch(),
      h('h1', { class: 'thanks-title', text: T('thanks') }),
      h('p', { class: 'lead', text: T('recorded') }),
      h('p', { class: 'question', text: f.detail_intro }),
      h('div', { class: 'choices' },
        h('button', { type: 'button', class: 'big primary', id: 'more-yes',
          onclick: function () { showQuestion(1); } }, T('more_yes')),
        h('button', { type: 'button', class: 'big', id: 'more-no',
          onclick: function () { finish(); showThanks(true); } }, T('more_no'))));
    // One tap and gone is the usual case: do not keep the next citizen waiting long.
    armIdle(Math.min(CFG.idle_seconds, Math.max(5, 2 * CFG.thanks_seconds)));
  }

  function showQuestion(step) {
    var f = form(current.form);
    var q = f.questions[step];
    if (!q) { finish(); showThanks(true); return; }
    current.step = step;
    var next = function () { saveDraft(); showQuestion(step + 1); };
    var answerBox;
    if (q.kind === 'text') {
      var area = h('textarea', { id: 'answer-text', maxlength: q.max_length || 500, rows: 4 });
      if (current.answers[q.id]) area.value = current.answers[q.id];
      area.addEventListener('input', function () {
        current.answers[q.id] = area.value;
        saveDraft();
        armIdle();
      });
      answerBox = h('div', { class: 'text-answer' }, area,
        h('button', { type: 'button', class: 'big primary', id: 'send-text',
          onclick: function () {
            if (!area.value.trim()) delete current.answers[q.id];
            next();
          } }, T('send')));
    } else {
      answerBox = h('div', { class: 'choices options-' + q.options.length });
      q.options.forEach(function (option) {
        answerBox.appendChild(h('button', {
          type: 'button', class: 'big option' +
            (String(current.answers[q.id]) === option.value ? ' chosen' : ''),
          'data-value': option.value,
          onclick: function () {
            current.answers[q.id] = q.kind === 'scale5' && /^[1-5]$/.test(option.value)
              ? Number(option.value) : option.value;
            next();
          }
        }, option.label));
      });
    }
    show('question', langSwitch(),
      h('p', { class: 'muted', text: fill(T('question_of'), { n: step, total: f.questions.length - 1 }) }),
      h('h1', { class: 'question', text: q.text }), speaker(q), answerBox,
      h('div', { class: 'nav' },
        h('button', { type: 'button', class: 'small-button', id: 'skip',
          onclick: function () { showQuestion(step + 1); } }, T('skip')),
        h('button', { type: 'button', class: 'small-button', id: 'finish',
          onclick: function () { finish(); showThanks(true); } }, T('finish'))));
    armIdle();
  }

  function showThanks(startTimer) {
    app.onclick = null;
    show('thanks', h('div', { class: 'thanks' },
      h('div', { class: 'tick', 'aria-hidden': 'true' }, '✓'),
      h('h1', { class: 'thanks-title', text: T('thanks') }),
      h('p', { class: 'lead', text: T('recorded') })));
    if (startTimer) {
      clearTimeout(thanksTimer);
      thanksTimer = setTimeout(backToIdle, CFG.thanks_seconds * 1000);
    }
  }

  function showRevoked() {
    app.onclick = null;
    clearTimeout(idleTimer);
    show('revoked', h('div', { class: 'revoked', id: 'revoked' },
      h('h1', { text: T('revoked_title') }),
      h('p', { class: 'lead', text: T('revoked_text') })));
  }

  function showPairing(message) {
    app.onclick = null;
    var input = h('input', { id: 'pair-token', autocomplete: 'off', spellcheck: 'false' });
    var note = h('p', { class: 'note', id: 'pair-note', role: 'status', text: message || '' });
    var button = h('button', { type: 'button', class: 'big primary', id: 'pair-button',
      onclick: function () { pair(input.value.trim(), note); } }, T('pair_button'));
    show('pairing', langSwitch(), h('h1', { text: T('pair_title') }),
      h('p', { text: T('pair_help') }),
      h('label', null, T('pair_token'), input), button, note);
  }

  function pair(candidate, note) {
    if (!candidate) return;
    fetch(CFG.urls.state, {
      headers: { Authorization: 'Bearer ' + candidate }, cache: 'no-store'
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) { note.textContent = T('pair_invalid'); return; }
        token = candidate;
        localStorage.setItem(KEY.token, token);
        localStorage.removeItem(KEY.revoked);
        revoked = false;
        state = body;
        writeJSON(KEY.state, state);
        start(true);
      });
    }, function () { note.textContent = T('offline'); });
  }

  function showStaff(message) {
    app.onclick = null;
    var code = h('input', { id: 'staff-officer', autocomplete: 'off' });
    var pin = h('input', { id: 'staff-pin', type: 'password', inputmode: 'numeric',
      autocomplete: 'off' });
    var note = h('p', { class: 'note', id: 'staff-note', role: 'status', text: message || '' });
    var queued = h('p', { id: 'staff-queued' });
    var refusedList = h('ul', { id: 'staff-refused', class: 'refused' });
    var shiftCall = function (method) {
      fetch(CFG.urls.shift, {
        method: method, headers: authHeaders(), cache: 'no-store',
        body: JSON.stringify(method === 'POST' ? { officer: code.value.trim(), pin: pin.value }
          : { pin: pin.value })
      }).then(function (res) {
        if (res.ok) {
          return refreshState().then(function () {
            showStaff(T(method === 'POST' ? 'shift_opened' : 'shift_closed'));
          });
        }
        note.textContent = T('wrong_pin');
      }, function () { note.textContent = T('offline'); });
    };
    show('staff', h('h1', { text: T('staff') }),
      h('p', { text: T('counter') + ': ' + (state ? state.counter.name : '') }),
      h('div', { class: 'staff-form' },
        h('label', null, T('officer_code'), code), h('label', null, T('pin'), pin),
        h('div', { class: 'choices' },
          h('button', { type: 'button', class: 'big primary', id: 'staff-open',
            onclick: function () { shiftCall('POST'); } }, T('open_shift')),
          h('button', { type: 'button', class: 'big', id: 'staff-close',
            onclick: function () { shiftCall('DELETE'); } }, T('close_shift')))),
      note, queued, h('h2', { text: T('refused') }), refusedList,
      h('div', { class: 'nav' },
        h('button', { type: 'button', class: 'small-button', id: 'staff-back',
          onclick: backToIdle }, T('back')),
        h('button', { type: 'button', class: 'small-button', id: 'staff-unpair',
          onclick: function () {
            localStorage.removeItem(KEY.token);
            token = null;
            backToIdle();
          } }, T('unpair'))));
    Promise.all([listStore('queue'), listStore('refused')]).then(function (lists) {
      queued.textContent = T('queued') + ': ' + lists[0].length;
      lists[1].forEach(function (item) {
        refusedList.appendChild(h('li', {
          text: item.refused_at + ' · ' + item.status + ' ' + item.error + ' · ' + item.body.id
        }));
      });
    });
  }

  // -- start ----------------------------------------------------------------------------------

  var timersStarted = false;

  function start(stateIsFresh) {
    recoverDraft();
    showIdle();
    if (!stateIsFresh) refreshState(); // pairing has just fetched it
    heartbeat();
    drain();
    if (timersStarted) return;
    timersStarted = true;
    setInterval(refreshState, CFG.state_seconds * 1000);
    setInterval(heartbeat, CFG.heartbeat_seconds * 1000);
    window.addEventListener('online', drain);
  }

  var pairing = /[#&]pair=([^&]+)/.exec(location.hash);
  if (pairing) {
    // The pairing QR code holds /kiosk/#pair=<token>: scanning it pairs the kiosk.
    history.replaceState(null, '', location.pathname);
    if (!token) { showPairing(); pair(decodeURIComponent(pairing[1]), document.getElementById('pair-note')); }
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(CFG.urls.sw, { scope: CFG.urls.root }).catch(function () {});
  }
  if (token || !pairing) start();

  // For the staff and the tests: how many answers wait, and a way to send them now.
  window.kiosk = {
    queued: function () { return listStore('queue'); },
    refused: function () { return listStore('refused'); },
    drain: drain,
    heartbeat: heartbeat,
    refreshState: refreshState
  };
})();

// Lotse's engine in the browser (docs/browser-engine.md). The server's own rules, the core of
// Lotse built for WebAssembly, run on a step page as the citizen answers: fields that apply
// appear and fields that do not disappear, a field is checked when the citizen leaves it (not
// while typing) with the very message the server would give, placed where the server places it
// and announced politely, and hints that show a fee follow the answers. Focus is never moved.
// "Speichern und weiter" still posts to the server, which decides. Without JavaScript or
// WebAssembly, or when the module or the workflow cannot be loaded, the page stays exactly as
// the server made it.
(function () {
  'use strict';

  if (typeof WebAssembly !== 'object' || !window.fetch || !window.TextEncoder) return;

  var encoder = new TextEncoder();
  var decoder = new TextDecoder();
  var modules = {};   // module address -> Promise of the instance's exports
  var loaded = {};    // content hash -> true once the workflow is compiled in the module
  var page = null;    // the step page the engine runs on now

  // One call into the module: a JSON request in, a JSON answer out (src/abi.rs of lotse-wasm).
  function call(ex, name, request) {
    var bytes = encoder.encode(request);
    var ptr = ex.lotse_alloc(bytes.length) >>> 0;
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
    var out = ex[name](ptr, bytes.length) >>> 0;
    ex.lotse_free(ptr, bytes.length);
    if (!out) throw new Error('the engine answered nothing');
    var len = new DataView(ex.memory.buffer).getUint32(out, true);
    var text = decoder.decode(new Uint8Array(ex.memory.buffer, out + 4, len));
    ex.lotse_free(out, len + 4);
    var answer = JSON.parse(text);
    if (answer && answer.error) throw new Error(answer.error);
    return answer;
  }

  function instantiate(url) {
    if (!modules[url]) {
      var response = fetch(url, { credentials: 'same-origin' });
      var made = WebAssembly.instantiateStreaming
        ? WebAssembly.instantiateStreaming(response, {})
        : response.then(function (r) { return r.arrayBuffer(); })
          .then(function (b) { return WebAssembly.instantiate(b, {}); });
      modules[url] = made.then(function (m) { return m.instance.exports; });
    }
    return modules[url];
  }

  // The workflow's sources, fetched while the module loads; compiled in it once.
  var sources = {};   // content hash -> Promise of the sources' text
  function fetchSources(url, hash) {
    if (!sources[hash]) {
      sources[hash] = fetch(url, { credentials: 'same-origin' }).then(function (r) {
        if (!r.ok) throw new Error('workflow ' + r.status);
        return r.text();
      });
    }
    return sources[hash];
  }

  function load(ex, text, hash) {
    if (!loaded[hash]) {
      var answer = call(ex, 'lotse_load', text);
      if (answer.content_hash !== hash) throw new Error('another workflow');
      loaded[hash] = true;
    }
  }

  // The element id the server gives an input's field: `konto.iban` -> `f-konto-iban` (the id of
  // an error's field too: pointer `/konto/iban`).
  function idOf(name) {
    return 'f-' + name.split('.').join('-');
  }

  // A field's box: its fieldset (groups, choices, files) or the block around its input.
  function box(el) {
    return el.tagName === 'FIELDSET' ? el : (el.closest('.field') || el.parentNode);
  }

  function describedBy(el, id, on) {
    var ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    var at = ids.indexOf(id);
    if (on && at < 0) ids.push(id);
    if (!on && at >= 0) ids.splice(at, 1);
    if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
    else el.removeAttribute('aria-describedby');
  }

  // Shows `message` at the element with id `id` where the server puts an error: after the
  // hint, else after the label or legend; a checkbox's before its box.
  function showError(id, message) {
    var el = document.getElementById(id);
    if (!el) return false;
    var b = box(el);
    var p = document.getElementById(id + '-error');
    if (!p) {
      p = document.createElement('p');
      p.className = 'error-message';
      p.id = id + '-error';
      // After the hints: the designer's, then "Sie können mehrere Antworten wählen." of checkboxes.
      var hint = document.getElementById(id + '-several') || document.getElementById(id + '-hint');
      var label = el.tagName === 'FIELDSET' ? b.querySelector('legend') : b.querySelector('label[for="' + id + '"]');
      if (el.type === 'checkbox') b.insertBefore(p, b.firstChild);
      else if (hint && hint.parentNode === b) hint.after(p);
      else if (label && label.parentNode === b) label.after(p);
      else b.insertBefore(p, el);
    }
    if (p.textContent === message) return false;
    p.textContent = message;
    b.classList.add('has-error');
    describedBy(el, p.id, true);
    if (el.tagName !== 'FIELDSET') el.setAttribute('aria-invalid', 'true');
    return true;
  }

  function clearError(id) {
    var el = document.getElementById(id);
    var p = document.getElementById(id + '-error');
    if (p) p.remove();
    if (!el) return;
    box(el).classList.remove('has-error');
    describedBy(el, id + '-error', false);
    el.removeAttribute('aria-invalid');
  }

  function htmlId(pointer) {
    return 'f-' + pointer.slice(1).split('/').join('-');
  }

  function Page(form, ex) {
    this.form = form;
    this.ex = ex;
    this.hash = form.getAttribute('data-content-hash');
    this.step = form.querySelector('input[name="_step"]').value;
    this.lang = document.documentElement.lang === 'en' ? 'en' : 'de';
    this.serverNow = Date.parse(form.getAttribute('data-now'));
    this.started = performance.now();
    this.state = JSON.parse(document.getElementById('lotse-state').textContent);
    this.left = {};   // ids (see idOf) of the fields the citizen has left
    this.shown = {};  // id -> message shown
    // Errors the server showed (after a refused post) count as shown, their fields as left.
    // Those the engine cannot see again (a virus found in an upload, a check only the server
    // makes) stay until the citizen changes the field: `server` keeps its value as it was.
    this.server = {};
    var errors = document.querySelectorAll('form .error-message[id$="-error"]');
    for (var i = 0; i < errors.length; i++) {
      var id = errors[i].id.slice(0, -'-error'.length);
      this.shown[id] = errors[i].textContent;
      this.left[id] = true;
      this.server[id] = this.fieldValue(id);
    }
    this.live = document.createElement('div');
    this.live.className = 'visually-hidden';
    this.live.setAttribute('aria-live', 'polite');
    this.live.id = 'lotse-live';
    form.appendChild(this.live);
  }

  Page.prototype.request = function () {
    var pairs = [];
    new FormData(this.form).forEach(function (v, k) {
      if (typeof v === 'string' && k.charAt(0) !== '_') pairs.push([k, v]);
    });
    return JSON.stringify({
      content_hash: this.hash,
      state: this.state,
      step: this.step,
      pairs: pairs,
      lang: this.lang,
      now: new Date(this.serverNow + (performance.now() - this.started)).toISOString(),
    });
  };

  // What the form holds for the field with this id (and the fields inside it), as text.
  Page.prototype.fieldValue = function (id) {
    var values = [];
    new FormData(this.form).forEach(function (v, k) {
      var of = idOf(k);
      if (typeof v === 'string' && (of === id || of.indexOf(id + '-') === 0)) values.push([k, v]);
    });
    return JSON.stringify(values);
  };

  // Whether the server's message for this id still stands: the field is shown and unchanged.
  Page.prototype.serverStands = function (id) {
    if (!(id in this.server)) return false;
    var el = document.getElementById(id);
    if (!el || box(el).hidden || this.fieldValue(id) !== this.server[id]) {
      delete this.server[id];
      return false;
    }
    return true;
  };

  Page.prototype.preview = function () {
    return call(this.ex, 'lotse_preview', this.request());
  };

  // Whether the citizen has left the field with this id, or (a group) a field inside it.
  Page.prototype.wasLeft = function (id) {
    if (this.left[id]) return true;
    for (var l in this.left) if (l.indexOf(id + '-') === 0) return true;
    return false;
  };

  // Runs the step through the engine and shows the result. `typing`: the id of the field being
  // typed in, which keeps its error state until it is left.
  Page.prototype.update = function (typing) {
    var result = this.preview();
    var visible = {};
    for (var i = 0; i < result.fields.length; i++) {
      var f = result.fields[i];
      visible[f.id] = f.visible;
      var el = document.getElementById('f-' + f.id);
      if (!el) continue;
      var b = box(el);
      // The engine decides for the step's fields: the simpler reveal of /static/lotse.js steps
      // aside there (it still reveals fields inside the entries of a repeatable group).
      b.removeAttribute('data-reveal-field');
      if (b.hidden === f.visible) b.hidden = !f.visible;
    }
    var wanted = {};
    for (var k = 0; k < result.errors.length; k++) {
      var e = result.errors[k];
      var id = htmlId(e.pointer);
      if (!visible[e.field] || id === typing || !this.wasLeft(id)) continue;
      if (!(id in wanted)) wanted[id] = e.message;
    }
    var announce = [];
    for (var shownId in this.shown) {
      if (shownId in wanted || shownId === typing || this.serverStands(shownId)) continue;
      clearError(shownId);
      delete this.shown[shownId];
    }
    for (var wantedId in wanted) {
      if (showError(wantedId, wanted[wantedId])) announce.push(wanted[wantedId]);
      this.shown[wantedId] = wanted[wantedId];
    }
    if (announce.length) this.live.textContent = announce.join(' ');
    // Texts that show answers or computed values (title, help, labels, links), as the server
    // would fill them: each element keyed with data-text by the page.
    var keyed = document.querySelectorAll('[data-text]');
    for (var i = 0; i < keyed.length; i++) {
      var key = keyed[i].getAttribute('data-text');
      if (Object.prototype.hasOwnProperty.call(result.texts, key) && keyed[i].textContent !== result.texts[key]) {
        keyed[i].textContent = result.texts[key];
      }
    }
    return result;
  };

  Page.prototype.leave = function (name) {
    this.left[idOf(name)] = true;
    this.update(null);
  };

  function attach() {
    var form = document.querySelector('form[data-engine]');
    var state = document.getElementById('lotse-state');
    page = null;
    if (!form || !state) return;
    var started = performance.now();
    var hash = form.getAttribute('data-content-hash');
    var text = fetchSources(form.getAttribute('data-workflow'), hash);
    Promise.all([instantiate(form.getAttribute('data-engine')), text])
      .then(function (both) {
        var ex = both[0];
        load(ex, both[1], hash);
        if (!form.isConnected) return;
        page = new Page(form, ex);
        page.update(null);
        // For measurements: since the page was asked for, and since the engine was started.
        form.setAttribute('data-engine-ready', String(Math.round(performance.now())));
        form.setAttribute('data-engine-load', String(Math.round(performance.now() - started)));
      })
      .catch(function () {
        // The page stays as the server made it.
        form.setAttribute('data-engine-failed', '');
      });
  }

  function inputOf(target) {
    return target && target.form && target.name && page && target.form === page.form ? target : null;
  }

  var typingTimer = null;
  document.addEventListener('input', function (event) {
    var el = inputOf(event.target);
    if (!el || el.type === 'radio' || el.type === 'checkbox' || el.tagName === 'SELECT' || el.type === 'file') return;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      if (page) page.update(idOf(el.name));
    }, 150);
  });
  document.addEventListener('change', function (event) {
    var el = inputOf(event.target);
    if (el && (el.type === 'radio' || el.type === 'checkbox' || el.tagName === 'SELECT')) page.leave(el.name);
  });
  document.addEventListener('focusout', function (event) {
    var el = inputOf(event.target);
    if (!el || el.type === 'radio' || el.type === 'checkbox' || el.tagName === 'SELECT' || el.type === 'file' || el.type === 'hidden') return;
    clearTimeout(typingTimer);
    // Leaving a field for a button of the form (or while it is being sent): the server checks
    // now, and a message appearing here would move the button away under the pointer.
    var to = event.relatedTarget;
    if (to && to.form === el.form && (to.type === 'submit' || to.tagName === 'BUTTON')) return;
    var current = page;
    // Shortly after, so that a click that left the field lands where it was aimed.
    setTimeout(function () {
      if (page === current && el.isConnected && !document.documentElement.hasAttribute('data-sending')) page.leave(el.name);
    }, 200);
  });
  // A page replaced in place by /static/lotse.js (a refused step, an entry added).
  document.addEventListener('lotse:replaced', attach);

  // For tests and measurements: `n` previews of the current page, the mean time of one (ms).
  window.lotseEngine = {
    check: function (n) {
      if (!page) return null;
      n = n || 1;
      var t0 = performance.now();
      for (var i = 0; i < n; i++) page.preview();
      return (performance.now() - t0) / n;
    },
    update: function () { return page ? page.update(null) : null; },
  };

  // After the page is usable: the module is fetched when the page has loaded.
  if (document.readyState === 'complete') attach();
  else window.addEventListener('load', attach);
})();

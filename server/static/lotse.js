// Lotse, enhancements of pages that work without them. First: reveals the fields of a step that apply only after an answer on the same step, as the
// citizen answers. The server marks each such field with the input it depends on and the answer
// that shows it (data-reveal-field, data-reveal-value); conditions that are not one answer of one
// field carry no mark and stay visible. Hidden fields keep what was typed and are still posted:
// the server decides what applies, exactly as without this script. Focus is never moved, and
// only fields after the answered question change, so nothing the citizen types moves.
(function () {
  'use strict';

  // The answers given to `name`: the radio button chosen, every box ticked (checkboxes share
  // their name), or the value of a list or input.
  function answers(form, name) {
    var chosen = [];
    var inputs = form.querySelectorAll('input, select');
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.name !== name) continue;
      if (el.type === 'radio' || el.type === 'checkbox') {
        if (el.checked) chosen.push(el.value);
      } else {
        chosen.push(el.value);
      }
    }
    return chosen;
  }

  function update(form, changed) {
    var marked = form.querySelectorAll('[data-reveal-field]');
    for (var i = 0; i < marked.length; i++) {
      var el = marked[i];
      var on = el.getAttribute('data-reveal-field');
      if (changed !== null && on !== changed) continue;
      var show = answers(form, on).indexOf(el.getAttribute('data-reveal-value')) >= 0;
      if (el.hidden === show) el.hidden = !show;
    }
  }

  // A text area with a limit counts down as the citizen types ("Noch 870 von 1.000 Zeichen."),
  // counted as the server counts (trimmed, in NFC, a line break as one character). The hint is
  // a polite live region and changes only after a pause in typing; without this script it
  // states the limit.
  function counts() {
    var hints = document.querySelectorAll('[data-max-length]');
    var english = document.documentElement.lang === 'en';
    function number(n) {
      return n.toLocaleString(english ? 'en-GB' : 'de-DE');
    }
    Array.prototype.forEach.call(hints, function (hint) {
      var area = document.getElementById(hint.id.replace(/-count$/, ''));
      var max = parseInt(hint.getAttribute('data-max-length'), 10);
      if (!area || !(max > 0)) return;
      var timer = null;
      function show() {
        var used = Array.from(area.value.replace(/\r\n?/g, '\n').trim().normalize('NFC')).length;
        var left = max - used;
        if (left >= 0) {
          hint.textContent = english
            ? 'You have ' + number(left) + ' of ' + number(max) + ' characters left.'
            : 'Noch ' + number(left) + ' von ' + number(max) + ' Zeichen.';
        } else {
          hint.textContent = english
            ? number(-left) + ' characters too many (at most ' + number(max) + ').'
            : number(-left) + ' Zeichen zu viel (höchstens ' + number(max) + ').';
        }
        hint.classList.toggle('over', left < 0);
      }
      hint.setAttribute('aria-live', 'polite');
      area.addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(show, 700);
      });
      if (area.value) show();
    });
  }

  function start() {
    counts();
    var forms = document.querySelectorAll('form');
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      if (!form.querySelector('[data-reveal-field]')) continue;
      update(form, null);
      form.addEventListener('change', function (event) {
        var name = event.target && event.target.name;
        if (name) update(event.currentTarget, name);
      });
    }
  }

  // Sending a step without a new history entry where the page stays the same. A step that is
  // refused, and adding, removing or bringing back an entry, answer with the same address; sent
  // by the browser itself, each would add an entry to the history, and "Back" would show the
  // same step again. Sent from here, the page is replaced where it is; a page at another address
  // (the next step, the review, the confirmation) is opened as usual. Without this script the
  // forms work exactly the same, with the extra history entries.
  var sending = false;

  function here() {
    return location.origin + location.pathname + location.search;
  }

  function focusAfter(submitter) {
    var target = document.querySelector('[autofocus]');
    if (!target && submitter && submitter.name) {
      var same = document.querySelectorAll('button[name="' + submitter.name + '"]');
      for (var i = 0; i < same.length && !target; i++) {
        if (same[i].value === submitter.value) target = same[i];
      }
    }
    if (!target) target = document.querySelector('.notice');
    if (!target) target = document.querySelector('main h1');
    if (!target) return;
    if (!target.matches('a, button, input, select, textarea, [tabindex]')) target.setAttribute('tabindex', '-1');
    target.focus();
  }

  function replacePage(html, submitter) {
    var next = new DOMParser().parseFromString(html, 'text/html');
    document.title = next.title;
    document.documentElement.lang = next.documentElement.lang;
    document.body.replaceWith(document.adoptNode(next.body));
    start();
    // The engine in the browser (/static/lotse-engine.js) takes up the new page.
    document.dispatchEvent(new Event('lotse:replaced'));
    focusAfter(submitter);
  }

  function sendNatively(form, submitter) {
    if (submitter && submitter.name) {
      var carry = document.createElement('input');
      carry.type = 'hidden';
      carry.name = submitter.name;
      carry.value = submitter.value;
      form.appendChild(carry);
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.hasAttribute('data-in-place') || !window.fetch || !window.DOMParser) return;
    event.preventDefault();
    if (sending) return;
    sending = true;
    var submitter = event.submitter || null;
    var body = new URLSearchParams(new FormData(form, submitter));
    document.documentElement.setAttribute('data-sending', '');
    fetch(form.action, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    }).then(function (response) {
      var contentType = response.headers.get('Content-Type') || '';
      if ((response.redirected && response.url !== here()) || contentType.indexOf('text/html') !== 0) {
        // Another page: opened as usual (the page stays marked as sending until it is left).
        location.assign(response.url);
        return;
      }
      return response.text().then(function (html) {
        replacePage(html, submitter);
        done();
      });
    }).catch(function () {
      // No answer at all (the network): the browser sends the form itself.
      sendNatively(form, submitter);
    });
  }

  function done() {
    sending = false;
    document.documentElement.removeAttribute('data-sending');
  }

  document.addEventListener('submit', onSubmit);
  // A page left while sending and shown again by "Back" from the browser's cache.
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) done();
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();

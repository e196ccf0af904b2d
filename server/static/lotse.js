// Lotse: reveals the fields of a step that apply only after an answer on the same step, as the
// citizen answers. The server marks each such field with the input it depends on and the answer
// that shows it (data-reveal-field, data-reveal-value); conditions that are not one answer of one
// field carry no mark and stay visible. Hidden fields keep what was typed and are still posted:
// the server decides what applies, exactly as without this script. Focus is never moved, and
// only fields after the answered question change, so nothing the citizen types moves.
(function () {
  'use strict';

  function answer(form, name) {
    var chosen = '';
    var inputs = form.querySelectorAll('input, select');
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.name !== name) continue;
      if (el.type === 'radio') {
        if (el.checked) chosen = el.value;
      } else if (el.type === 'checkbox') {
        chosen = el.checked ? el.value : '';
      } else {
        chosen = el.value;
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
      var show = answer(form, on) === el.getAttribute('data-reveal-value');
      if (el.hidden === show) el.hidden = !show;
    }
  }

  function start() {
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

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();

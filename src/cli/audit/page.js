/* The report page's script (inlined into index.html): the grid, its filters and paging. Plain
   browser JavaScript with no imports, so the page works from file:// with nothing to load. */
/* global document */
'use strict';
(function () {
  var PAGE = 120;
  var data = JSON.parse(document.getElementById('whycam-data').textContent);
  var entries = data.entries;
  var grid = document.getElementById('grid');
  var more = document.getElementById('more');
  var count = document.getElementById('count');
  var f = {
    cls: document.getElementById('f-class'),
    truth: document.getElementById('f-truth'),
    min: document.getElementById('f-min'),
    max: document.getElementById('f-max'),
    wrong: document.getElementById('f-wrong'),
    failed: document.getElementById('f-failed'),
    text: document.getElementById('f-text'),
  };
  var shown = [];
  var limit = PAGE;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /* Report files are named after the photos; a name may hold spaces, '#' or '?'. */
  function url(p) {
    return p.split('/').map(encodeURIComponent).join('/');
  }
  function pct(p) {
    return (100 * p).toFixed(1) + '%';
  }
  function top(e) {
    return e.predictions && e.predictions.length ? e.predictions[0] : null;
  }
  function addOptions(select, values) {
    values.forEach(function (v) {
      var o = el('option', '', v);
      o.value = v;
      select.appendChild(o);
    });
  }
  function distinct(get) {
    var seen = {};
    entries.forEach(function (e) {
      var v = get(e);
      if (v !== undefined && v !== null) seen[v] = true;
    });
    return Object.keys(seen).sort();
  }

  function matches(e) {
    var t = top(e);
    var min = parseFloat(f.min.value);
    var max = parseFloat(f.max.value);
    if (f.failed.checked && e.ok) return false;
    if (f.wrong.checked && !(e.ok && e.truth !== undefined && !e.correct)) return false;
    if (f.cls.value && !(t && t.label === f.cls.value)) return false;
    if (f.truth.value && e.truth !== f.truth.value) return false;
    if (!isNaN(min) && !(t && t.probability >= min)) return false;
    if (!isNaN(max) && !(t && t.probability <= max)) return false;
    if (f.text.value && e.path.toLowerCase().indexOf(f.text.value.toLowerCase()) < 0) return false;
    return true;
  }

  function picture(src, alt, caption) {
    var box = el('span', 'pic');
    var img = el('img');
    img.src = url(src);
    img.alt = alt;
    img.loading = 'lazy';
    box.appendChild(img);
    box.appendChild(el('span', 'label', caption));
    return box;
  }

  function scores(e) {
    var table = el('table', 'scores');
    var head = el('tr');
    ['map', 'deletion', 'insertion', 'sanity'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    table.appendChild(head);
    Object.keys(e.metrics).forEach(function (m) {
      var s = e.metrics[m];
      var row = el('tr');
      row.title = s.summary;
      row.appendChild(el('td', '', m));
      ['deletion', 'insertion', 'sanity'].forEach(function (k) {
        row.appendChild(el('td', '', typeof s[k] === 'number' ? s[k].toFixed(2) : ''));
      });
      table.appendChild(row);
    });
    return table;
  }

  function card(e) {
    var t = top(e);
    var fig = el('figure', 'entry' + (e.ok ? '' : ' failed') + (e.ok && e.truth !== undefined && !e.correct ? ' wrong' : ''));
    if (e.ok && e.images) {
      var pics = el('div', 'pics');
      pics.appendChild(picture(e.images.photo, 'the photo ' + e.path, 'photo'));
      data.methods.forEach(function (m) {
        if (e.images.maps[m.name]) pics.appendChild(picture(e.images.maps[m.name], m.label + ' of ' + e.path, m.label));
      });
      fig.appendChild(pics);
    }
    var cap = el('figcaption');
    cap.appendChild(el('div', 'path', e.path));
    if (!e.ok) {
      cap.appendChild(el('div', 'error', e.error.code + ': ' + e.error.message));
    } else {
      var ol = el('ol', 'top');
      e.predictions.slice(0, 3).forEach(function (p) {
        var li = el('li', p.index === e.class ? 'explained' : '', p.label + ' ' + pct(p.probability));
        if (p.index === e.class) li.title = 'the class the maps explain';
        ol.appendChild(li);
      });
      cap.appendChild(ol);
      if (t && t.index !== e.class) cap.appendChild(el('div', 'explained-class', 'maps explain: ' + e.label));
      if (e.truth !== undefined) cap.appendChild(el('div', e.correct ? 'truth right' : 'truth wrong', (e.correct ? 'right: ' : 'wrong, truth: ') + e.truth));
      if (e.metrics) cap.appendChild(scores(e));
      Object.keys(e.skipped || {}).forEach(function (m) { cap.appendChild(el('div', 'skipped', m + ' skipped: ' + e.skipped[m])); });
    }
    fig.appendChild(cap);
    return fig;
  }

  function render() {
    var frag = document.createDocumentFragment();
    shown.slice(0, limit).forEach(function (e) { frag.appendChild(card(e)); });
    grid.replaceChildren(frag);
    count.textContent = shown.length + ' of ' + entries.length + ' images' + (shown.length > limit ? ', the first ' + limit + ' shown' : '');
    more.hidden = shown.length <= limit;
  }
  function apply() {
    shown = entries.filter(matches);
    limit = PAGE;
    render();
  }

  addOptions(f.cls, distinct(function (e) { var t = top(e); return t ? t.label : undefined; }));
  addOptions(f.truth, distinct(function (e) { return e.truth; }));
  if (!data.hasTruth) {
    f.truth.parentNode.hidden = true;
    f.wrong.parentNode.hidden = true;
  }
  Object.keys(f).forEach(function (k) { f[k].addEventListener('input', apply); });
  more.addEventListener('click', function () { limit += PAGE; render(); });
  apply();
})();

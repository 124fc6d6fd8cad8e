/* TokenTally dashboard: plain JavaScript, Chart.js and the shared chart configurations (window.TokenTallyCharts). */
(function () {
  'use strict';
  var C = window.TokenTallyCharts;
  var charts = {};
  var $ = function (id) { return document.getElementById(id); };
  var KEY = 'tokentally.key';

  function esc(text) {
    return String(text == null ? '' : text).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; });
  }
  function usd(text) { return C.money(Number(text)); }
  function usdExact(text) { return '$' + Number(text).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function ago(iso) {
    if (!iso) return 'never';
    var minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
    if (minutes < 1) return 'just now';
    if (minutes < 90) return minutes + ' min ago';
    var hours = Math.round(minutes / 60);
    return hours < 48 ? hours + ' h ago' : Math.round(hours / 24) + ' days ago';
  }
  function localDate(offsetDays) {
    var d = new Date(Date.now() + offsetDays * 86400000);
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  async function api(path) {
    var res = await fetch(path, { headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY) } });
    if (res.status === 401 || res.status === 403) { var e = new Error('unauthorised'); e.status = res.status; throw e; }
    if (res.status === 404) return null;
    var body = await res.json();
    if (!res.ok) throw new Error(body.detail || ('HTTP ' + res.status));
    return body;
  }

  function state() {
    var p = new URLSearchParams(location.search);
    return {
      from: p.get('from') || localDate(-29),
      to: p.get('to') || localDate(0),
      granularity: p.get('granularity') || 'day',
      group_by: p.get('group_by') || 'provider',
      tz: p.get('tz') || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    };
  }
  function query(s, extra) {
    var p = new URLSearchParams({ from: s.from, to: s.to, granularity: s.granularity, tz: s.tz });
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    return p.toString();
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
  }

  function kpis(summary, spend) {
    var change = summary.change_pct == null ? 'no earlier data' : (Number(summary.change_pct) >= 0 ? '▲ ' : '▼ ') + Math.abs(Number(summary.change_pct)) + '% vs same point last month';
    var cls = summary.change_pct == null ? '' : Number(summary.change_pct) > 0 ? 'up' : 'down';
    var cards = [
      ['Month to date', usdExact(summary.spent), '<span class="' + cls + '">' + esc(change) + '</span>', 'kpi-mtd'],
      ['Forecast, month end', usdExact(summary.forecast), summary.forecast_method === 'weekly_rhythm' ? 'by the weekly rhythm of the last 28 days' : 'linear, from the spend so far', 'kpi-forecast'],
      ['Last month', usdExact(summary.previous_period.spent), esc(summary.events.toLocaleString('en-US')) + ' calls this month', 'kpi-previous'],
      ['Selected range', usdExact(spend.total), esc(spend.events.toLocaleString('en-US')) + ' calls' +
        (spend.partial_events ? ', <span title="counted at the cost of the token kinds that have a rate">' + esc(spend.partial_events.toLocaleString('en-US')) + ' partly priced (' + usdExact(spend.partial_cost_usd) + ')</span>' : '') +
        ', ' + esc(spend.unpriced_events) + ' unpriced', 'kpi-range'],
    ];
    $('kpis').innerHTML = cards.map(function (c) {
      return '<div class="kpi" id="' + c[3] + '"><div class="label">' + c[0] + '</div><div class="value">' + c[1] + '</div><div class="sub">' + c[2] + '</div></div>';
    }).join('');
  }

  function rank(id, report) {
    // "(other)" sums everything below the top five: not a rank of its own.
    var rows = report.series.filter(function (s) { return Number(s.total) > 0 && s.key !== '(other)'; });
    var max = rows.length ? Number(rows[0].total) : 0;
    $(id).innerHTML = rows.length
      ? rows.map(function (s) {
          var pct = max ? Math.max(2, (Number(s.total) / max) * 100) : 0;
          return '<tr><td title="' + esc(s.label) + '">' + esc(s.label) + '<div class="bar"><span style="width:' + pct + '%"></span></div></td><td class="num">' + usd(s.total) + '</td></tr>';
        }).join('')
      : '<tr><td class="muted">No spend in this range</td></tr>';
  }

  function perImage(tokens) {
    var rows = tokens.breakdown.filter(function (r) { return r.images > 0; });
    $('per-image').innerHTML = '<tr><th>Model</th><th>Provider</th><th>Size</th><th>Quality</th><th class="num">Images</th><th class="num">Out tokens / image</th><th class="num">Cost / image</th></tr>' +
      (rows.length ? rows.map(function (r) {
        return '<tr><td>' + esc(r.model) + '</td><td>' + esc(r.provider) + '</td><td>' + esc(r.image_size || '—') + '</td><td>' + esc(r.image_quality || '—') + '</td><td class="num">' +
          r.images.toLocaleString('en-US') + '</td><td class="num">' + (r.output_image_tokens_per_image || 0).toLocaleString('en-US') + '</td><td class="num">' + (r.cost_per_image_usd ? '$' + Number(r.cost_per_image_usd).toFixed(4) : '—') + '</td></tr>';
      }).join('') : '<tr><td colspan="7" class="muted">No images in this range</td></tr>');
  }

  function providers(compare) {
    var rows = compare.models.map(function (m) {
      var best = m.cheapest;
      var saving = m.actual_complete === false ? '<span title="' + esc(m.note || '') + '">not comparable: some calls are not priced</span>'
        : best && Number(best.saving_usd) > 0 ? 'save ' + usd(best.saving_usd) + ' on ' + esc(best.provider) : 'already the cheapest';
      return '<tr><td>' + esc(m.model) + '</td><td class="num">' + usd(m.actual_total_usd) + '</td><td>' + m.at_each_provider.map(function (p) { return esc(p.provider) + ' ' + usd(p.cost_usd); }).join(' · ') + '</td><td>' + saving + '</td></tr>';
    });
    $('providers').innerHTML = '<tr><th>Model</th><th class="num">Actual</th><th>Same usage at</th><th>Saving</th></tr>' + (rows.join('') || '<tr><td colspan="4" class="muted">No usage to compare</td></tr>');
  }

  function budgets(list) {
    if (!list || !list.data || !list.data.length) {
      $('budgets').innerHTML = '<p class="muted">No budgets yet. An admin creates one with <code>POST /v1/budgets</code>; it appears here with its thresholds.</p>';
      return;
    }
    $('budgets').innerHTML = list.data.map(function (b) {
      var s = b.status || {};
      var pct = Number(s.percent || 0);
      var color = pct >= 100 ? 'var(--bad)' : pct >= 80 ? 'var(--warn)' : 'var(--good)';
      return '<div class="budget"><div class="meta"><strong>' + esc(b.name) + '</strong><span>' + usd(s.spent_usd || '0') + ' of ' + usd(b.amount_usd) + '</span></div>' +
        '<div class="meter"><span style="width:' + Math.min(100, pct) + '%;background:' + color + '"></span></div><div class="meta"><span>' + pct.toFixed(0) + '% · ' + esc(b.period) + '</span><span>forecast ' + usd(s.forecast_usd || '0') + '</span></div></div>';
    }).join('');
  }

  function alerts(list) {
    if (!list || !list.data || !list.data.length) {
      $('alerts').innerHTML = '<p class="muted">No alerts. Budget thresholds, forecasts and anomalies are listed here when they fire.</p>';
      return;
    }
    var kinds = { 'budget.threshold_reached': 'Threshold', 'budget.forecast_exceeded': 'Forecast', 'spend.anomaly': 'Anomaly' };
    $('alerts').innerHTML = '<table class="data">' + list.data.slice(0, 8).map(function (a) {
      var d = a.deliveries || {};
      var sent = d.failed ? '<span class="bad">' + d.failed + ' failed</span>' : d.pending ? '<span class="warn">sending…</span>' : d.delivered ? 'sent' : 'no webhook';
      return '<tr><td><strong>' + esc(kinds[a.type] || a.type) + '</strong></td><td>' + esc(a.summary || '') + '</td><td class="num muted">' + sent + '<br>' + ago(a.created_at) + '</td></tr>';
    }).join('') + '</table>';
  }

  function pricing(prices, coverage) {
    var last = prices.last_refresh ? 'Prices last refreshed ' + ago(prices.last_refresh.finished_at) : 'Prices not refreshed from a source yet (built-in catalog)';
    var next = prices.next_refresh ? ', next refresh ' + new Date(prices.next_refresh).toLocaleString() : '';
    var partlyShare = coverage.events.total ? (coverage.events.partial / coverage.events.total) * 100 : 0;
    var html = '<p>' + esc(last + next) + '. Fully priced: ' + (Number(coverage.events.priced_share) * 100).toFixed(1) + '% of calls' +
      (coverage.events.partial ? ', partly priced: ' + partlyShare.toFixed(1) + '%' : '') + '.</p>';
    html += '<table class="data"><tr><th>Provider</th><th>Model</th><th>Source</th><th>Since</th><th>Prices per 1M tokens</th></tr>' + prices.data.map(function (v) {
      var list = Object.keys(v.prices).map(function (u) { return u.replace(/_/g, ' ') + ' $' + v.prices[u]; }).join(', ');
      return '<tr><td>' + esc(v.provider) + '</td><td>' + esc(v.model) + (v.kind !== 'list' ? ' <em>(' + esc(v.kind) + ')</em>' : '') + '</td><td>' + esc(v.source) + '</td><td>' + esc(v.effective_from.slice(0, 10)) + '</td><td title="' + esc(list) + '">' + esc(list) + '</td></tr>';
    }).join('') + '</table>';
    $('pricing').innerHTML = html;
    var warnings = coverage.unpriced_models.length
      ? '<div class="banner warn" id="unpriced-warning"><strong>Unpriced models:</strong> ' + coverage.unpriced_models.map(function (m) { return esc(m.provider + '/' + m.model) + ' (' + m.events + ' calls)'; }).join(', ') +
        '. They are stored and will be priced when a price arrives; add one with <code>PUT /v1/pricing/overrides</code>.</div>'
      : '';
    var partial = coverage.partial_models || [];
    if (partial.length) {
      warnings += '<div class="banner warn" id="partial-warning"><strong>Partly priced:</strong> ' + partial.map(function (m) {
        return esc(m.provider + '/' + m.model) + ' (' + m.events + ' calls, ' + usdExact(m.cost_usd) + ' counted; no rate for ' + esc(m.unpriced_kinds.join(', ').replace(/_/g, ' ')) + ')';
      }).join(', ') + '. Their priced kinds are in every total; they are re-priced when the missing rate arrives.</div>';
    }
    $('warnings').innerHTML = warnings;
  }

  var generation = 0;

  /** Each panel is drawn as soon as its report arrives; the headline figures and the spend chart first. */
  async function load() {
    var s = state();
    var mine = ++generation;
    document.body.dataset.loaded = 'false';
    document.body.dataset.firstPaint = 'false';
    var form = $('controls');
    ['from', 'to', 'granularity', 'group_by', 'tz'].forEach(function (k) { form.elements[k].value = s[k]; });
    var failed = null;
    function panel(promise, render) {
      return promise.then(function (data) { if (mine === generation) render(data); return data; }, function (error) { failed = failed || error; });
    }
    var summary = api('/v1/reports/summary?' + new URLSearchParams({ tz: s.tz, period: 'month' }));
    var spend = api('/v1/reports/spend?' + query(s, { group_by: s.group_by }));
    var first = Promise.all([summary, spend]).then(function (r) {
      if (mine !== generation) return;
      kpis(r[0], r[1]);
      $('empty').hidden = r[1].events !== 0;
      $('empty-snippet').textContent = "curl -H 'Authorization: Bearer <ingest key>' -H 'content-type: application/json' " + location.origin + "/v1/events -d '{\"event_id\":\"first\",\"timestamp\":\"" + new Date().toISOString().slice(0, 19) + "Z\",\"provider\":\"openai\",\"model\":\"gpt-image-2\",\"usage\":{\"input_text_tokens\":120,\"output_image_tokens\":4160}}'";
      draw('spend-chart', C.spendChart(r[1]));
      document.body.dataset.firstPaint = 'true';
    }, function (error) { failed = failed || error; });
    var tokens = api('/v1/reports/tokens?' + query(s));
    var compare = api('/v1/reports/compare-providers?' + query(s));
    var coverageRange = new URLSearchParams({ from: new Date(Date.parse(s.from)).toISOString(), to: new Date(Date.parse(s.to) + 86400000).toISOString() });
    await Promise.all([
      first,
      panel(api('/v1/reports/spend?' + query(s, { group_by: 'project', limit: '5' })), function (r) { rank('top-project', r); }),
      panel(api('/v1/reports/spend?' + query(s, { group_by: 'team', limit: '5' })), function (r) { rank('top-team', r); }),
      panel(api('/v1/reports/spend?' + query(s, { group_by: 'user', limit: '5' })), function (r) { rank('top-user', r); }),
      panel(api('/v1/reports/spend?' + query(s, { group_by: 'feature', limit: '5' })), function (r) { rank('top-feature', r); }),
      panel(tokens, function (r) { draw('tokens-chart', C.tokensChart(r)); perImage(r); }),
      panel(compare, function (r) { draw('providers-chart', C.providersChart(r)); providers(r); }),
      panel(Promise.all([api('/v1/pricing'), api('/v1/pricing/coverage?' + coverageRange)]), function (r) { pricing(r[0], r[1]); }),
      panel(api('/v1/budgets?with_status=1').catch(function () { return null; }), budgets),
      panel(api('/v1/alerts').catch(function () { return null; }), alerts),
    ]);
    if (mine !== generation) return;
    if (failed) {
      if (failed.status) return signOut('That key cannot read reports (it needs the viewer or admin role).');
      $('warnings').insertAdjacentHTML('afterbegin', '<div class="banner bad">Could not load every report: ' + esc(failed.message) + '</div>');
    }
    document.body.dataset.loaded = 'true';
  }

  function show(signedIn) {
    $('signin').hidden = signedIn;
    $('dashboard').hidden = !signedIn;
    $('controls').hidden = !signedIn;
  }
  function signOut(message) {
    sessionStorage.removeItem(KEY);
    show(false);
    $('signin-error').hidden = !message;
    $('signin-error').textContent = message || '';
  }

  $('signin-form').addEventListener('submit', function (event) {
    event.preventDefault();
    sessionStorage.setItem(KEY, $('key').value.trim());
    show(true);
    load();
  });
  $('signout').addEventListener('click', function () { signOut(); });
  $('controls').addEventListener('change', function () {
    var form = $('controls');
    var p = new URLSearchParams();
    ['from', 'to', 'granularity', 'group_by', 'tz'].forEach(function (k) { if (form.elements[k].value) p.set(k, form.elements[k].value); });
    history.replaceState(null, '', '?' + p.toString());
    load();
  });

  if (sessionStorage.getItem(KEY)) { show(true); load(); } else { show(false); }
})();

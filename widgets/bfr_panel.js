// Operator panel of a BFR session (workbench.widgets.bfr_panel.BfrPanel, anywidget ESM).
//
// A view only: it draws what the kernel sends and forwards the operator's actions. It sends
// a heartbeat every `heartbeat_ms` from a Web Worker timer (background tabs throttle page
// timers, workers are not); the session's supervisor vents when heartbeats stop for 3 s.
// Trace rows arrive as float32 buffers, columns t_s, pressure, setpoint, SmO2, EMG.

const NCOL = 5;
// The line the 1-s mean may not cross: max SP + 2.5 mmHg vents at once (issue 15), which
// comes long before req 3's sustained line (+15 for 1 s); older snapshots have only the latter.
function meanTrip(lim) {
  return isFinite(lim.mean_trip_mmhg)
    ? [lim.mean_trip_mmhg, "1-s mean trip"]
    : [lim.sustained_trip_mmhg, "sustained trip"];
}

const COLORS = {
  pressure: "#1b2a3a",
  setpoint: "#1565c0",
  smo2: "#6a1b9a",
  emg: "#00838f",
  ok: "#2e7d32",
  maxsp: "#f9a825",
  sustained: "#ef6c00",
  instant: "#c62828",
  grid: "#e3e7ec",
  axis: "#6b7785",
};
const PRIORITY_LABEL = { high: "HIGH", medium: "MEDIUM", low: "LOW" };

function el_(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtTime(s) {
  if (s === null || s === undefined || !isFinite(s) || s < 0) return "--:--";
  const m = Math.floor(s / 60);
  const r = Math.floor(s % 60);
  return `${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}

function fmtNum(v, digits = 0) {
  return v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(digits);
}

// A timer that keeps ticking in background tabs (Web Worker); falls back to setInterval.
function startTicker(ms, fn) {
  try {
    const src =
      "let id=null;onmessage=(e)=>{if(id)clearInterval(id);id=e.data>0?setInterval(()=>postMessage(0),e.data):null;};";
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    const w = new Worker(url);
    w.onmessage = fn;
    w.postMessage(ms);
    return {
      period: (p) => w.postMessage(p),
      stop: () => {
        w.terminate();
        URL.revokeObjectURL(url);
      },
    };
  } catch (err) {
    let id = setInterval(fn, ms);
    return {
      period: (p) => {
        clearInterval(id);
        id = setInterval(fn, p);
      },
      stop: () => clearInterval(id),
    };
  }
}

function setupCanvas(canvas, cssW, cssH) {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  return ctx;
}

// [lo, hi, step] with a round step (about 3 intervals), clamped to [minLo, maxHi]
function niceRange([lo, hi], minLo, maxHi) {
  lo = Math.max(minLo, lo);
  hi = Math.min(maxHi, hi);
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / 3;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step];
}

function gaugeMax(lim) {
  const top = Math.max(lim.instant_trip_mmhg || 0, lim.aop_mmhg || 0, 100) + 30;
  return Math.ceil(top / 50) * 50;
}

function drawGauge(canvas, lim, p, sp, vented) {
  const W = 250;
  const H = 200;
  const ctx = setupCanvas(canvas, W, H);
  const cx = W / 2;
  const cy = 122;
  const R = 94;
  const max = gaugeMax(lim);
  const a0 = Math.PI * 0.75;
  const sweep = Math.PI * 1.5;
  const ang = (v) => a0 + (sweep * Math.max(0, Math.min(max, v))) / max;
  const band = (from, to, color, width) => {
    if (!(to > from)) return;
    ctx.beginPath();
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineCap = "butt";
    ctx.arc(cx, cy, R, ang(from), ang(to));
    ctx.stroke();
  };
  band(0, max, "#eceff3", 14);
  const msp = lim.max_setpoint_mmhg;
  const [sus] = meanTrip(lim);
  const ins = lim.instant_trip_mmhg;
  band(0, msp, "#c8e6c9", 14);
  band(msp, sus, "#ffe082", 14);
  band(sus, ins, "#ffb74d", 14);
  band(ins, max, "#ef9a9a", 14);
  // ticks
  ctx.fillStyle = COLORS.axis;
  ctx.strokeStyle = COLORS.axis;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const major = max > 200 ? 50 : 25;
  for (let v = 0; v <= max; v += major / 2) {
    const a = ang(v);
    const isMajor = v % major === 0;
    ctx.beginPath();
    ctx.lineWidth = isMajor ? 1.5 : 1;
    ctx.moveTo(cx + Math.cos(a) * (R - 9), cy + Math.sin(a) * (R - 9));
    ctx.lineTo(cx + Math.cos(a) * (R - (isMajor ? 17 : 13)), cy + Math.sin(a) * (R - (isMajor ? 17 : 13)));
    ctx.stroke();
    if (isMajor) ctx.fillText(String(v), cx + Math.cos(a) * (R - 28), cy + Math.sin(a) * (R - 28));
  }
  // setpoint marker (outside the arc)
  if (isFinite(sp) && sp > 0) {
    const a = ang(sp);
    ctx.beginPath();
    ctx.fillStyle = COLORS.setpoint;
    const tip = R + 9;
    const base = R + 19;
    ctx.moveTo(cx + Math.cos(a) * tip, cy + Math.sin(a) * tip);
    ctx.lineTo(cx + Math.cos(a - 0.05) * base, cy + Math.sin(a - 0.05) * base);
    ctx.lineTo(cx + Math.cos(a + 0.05) * base, cy + Math.sin(a + 0.05) * base);
    ctx.closePath();
    ctx.fill();
  }
  // needle
  if (isFinite(p)) {
    const a = ang(p);
    ctx.beginPath();
    ctx.strokeStyle = vented ? "#78909c" : COLORS.pressure;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.moveTo(cx - Math.cos(a) * 8, cy - Math.sin(a) * 8);
    ctx.lineTo(cx + Math.cos(a) * (R - 20), cy + Math.sin(a) * (R - 20));
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.fillStyle = COLORS.pressure;
  ctx.arc(cx, cy, 5, 0, 2 * Math.PI);
  ctx.fill();
  // readout
  ctx.fillStyle = COLORS.pressure;
  ctx.font = "600 30px system-ui, sans-serif";
  ctx.fillText(fmtNum(Math.abs(p) < 0.5 ? 0 : p), cx, cy + 44); // no "-0" from sensor noise
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = COLORS.axis;
  ctx.fillText("mmHg", cx, cy + 64);
}

function drawTraces(canvas, width, rows, n, lim, windowS) {
  const lanes = [
    { key: "pressure", h: 200, label: "Cuff pressure (mmHg)" },
    { key: "smo2", h: 78, label: "SmO₂ (%)" },
    { key: "emg", h: 78, label: "EMG RMS (µV)" },
  ];
  const padL = 44;
  const padR = 10;
  const gap = 14;
  const axisH = 18;
  const H = lanes.reduce((s, l) => s + l.h + gap, 0) + axisH + 6;
  const ctx = setupCanvas(canvas, width, H);
  const plotW = width - padL - padR;
  const tEnd = n ? rows[(n - 1) * NCOL] : 0;
  const tStart = tEnd - windowS;
  const x = (t) => padL + ((t - tStart) / windowS) * plotW;
  let i0 = 0;
  while (i0 < n && rows[i0 * NCOL] < tStart) i0++;

  function series(col, yOf, color, width_, stepped) {
    ctx.beginPath();
    ctx.strokeStyle = color;
    ctx.lineWidth = width_;
    ctx.lineJoin = "round";
    let pen = false;
    let lastY = 0;
    for (let i = i0; i < n; i++) {
      const v = rows[i * NCOL + col];
      if (!isFinite(v)) {
        pen = false;
        continue;
      }
      const px = x(rows[i * NCOL]);
      const py = yOf(v);
      if (!pen) ctx.moveTo(px, py);
      else if (stepped) {
        ctx.lineTo(px, lastY);
        ctx.lineTo(px, py);
      } else ctx.lineTo(px, py);
      pen = true;
      lastY = py;
    }
    ctx.stroke();
  }

  function extent(col, fallback) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = i0; i < n; i++) {
      const v = rows[i * NCOL + col];
      if (isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (!isFinite(lo)) return fallback;
    const pad = 0.1 * (hi - lo || Math.abs(hi) || 1);
    return [lo - pad, hi + pad];
  }

  let top = 6;
  ctx.font = "11px system-ui, sans-serif";
  for (const lane of lanes) {
    const y0 = top;
    const y1 = top + lane.h;
    let range;
    if (lane.key === "pressure") range = [0, gaugeMax(lim), 50];
    else if (lane.key === "smo2") range = niceRange(extent(3, [0, 100]), 0, 100);
    else range = niceRange(extent(4, [0, 100]), 0, Infinity);
    const [lo, hi, tickStep] = range.length === 3 ? range : [range[0], range[1], 50];
    const y = (v) => y1 - ((Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)) * lane.h;
    // frame and grid
    ctx.fillStyle = "#fbfcfd";
    ctx.fillRect(padL, y0, plotW, lane.h);
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let v = lo; v <= hi + 1e-9; v += tickStep) {
      const py = y(v);
      ctx.beginPath();
      ctx.moveTo(padL, Math.round(py) + 0.5);
      ctx.lineTo(padL + plotW, Math.round(py) + 0.5);
      ctx.stroke();
      ctx.fillText(fmtNum(v, tickStep < 1 ? 2 : Number.isInteger(tickStep) ? 0 : 1), padL - 5, py);
    }
    if (lane.key === "pressure") {
      // limit bands: above max setpoint amber, above the 1-s mean trip orange, above instant red
      const [mt, mtLabel] = meanTrip(lim);
      const bands = [
        [lim.max_setpoint_mmhg, mt, "rgba(249,168,37,0.10)"],
        [mt, lim.instant_trip_mmhg, "rgba(239,108,0,0.12)"],
        [lim.instant_trip_mmhg, hi, "rgba(198,40,40,0.12)"],
      ];
      for (const [a, b, c] of bands) {
        if (!(b > a)) continue;
        ctx.fillStyle = c;
        ctx.fillRect(padL, y(b), plotW, y(a) - y(b));
      }
      const lines = [
        [lim.max_setpoint_mmhg, COLORS.maxsp, "max SP", 0],
        [mt, COLORS.sustained, mtLabel, 1],
        [lim.instant_trip_mmhg, COLORS.instant, "instant trip", 2],
      ];
      ctx.setLineDash([5, 4]);
      ctx.textAlign = "left";
      ctx.textBaseline = "bottom";
      ctx.font = "600 10.5px system-ui, sans-serif";
      for (const [v, c, label, k] of lines) {
        if (!isFinite(v)) continue;
        ctx.strokeStyle = c;
        ctx.beginPath();
        ctx.moveTo(padL, Math.round(y(v)) + 0.5);
        ctx.lineTo(padL + plotW, Math.round(y(v)) + 0.5);
        ctx.stroke();
        ctx.fillStyle = c === COLORS.maxsp ? "#b27b00" : c;
        ctx.fillText(`${label} ${fmtNum(v)}`, padL + 6 + k * 118, y(v) - 1);
      }
      ctx.font = "11px system-ui, sans-serif";
      ctx.setLineDash([]);
      series(2, y, COLORS.setpoint, 1.5, true);
      series(1, y, COLORS.pressure, 1.4, false);
    } else if (lane.key === "smo2") {
      series(3, y, COLORS.smo2, 1.4, false);
    } else {
      series(4, y, COLORS.emg, 1.2, false);
    }
    ctx.strokeStyle = "#cfd6de";
    ctx.strokeRect(padL + 0.5, y0 + 0.5, plotW - 1, lane.h - 1);
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.font = "600 11px system-ui, sans-serif";
    const lw = ctx.measureText(lane.label).width;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(padL + plotW - lw - 10, y0 + 2, lw + 8, 16);
    ctx.fillStyle = "#37474f";
    ctx.fillText(lane.label, padL + plotW - 6, y0 + 5);
    ctx.font = "11px system-ui, sans-serif";
    top = y1 + gap;
  }
  // time axis
  ctx.fillStyle = COLORS.axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const tStep = windowS > 120 ? 30 : windowS > 40 ? 10 : 5;
  for (let s = 0; s <= windowS; s += tStep) {
    ctx.fillText(s === 0 ? "now" : `−${s} s`, x(tEnd - s), top);
  }
}

function render({ model, el }) {
  const root = el_("div", "wb-bfr");
  // header
  const head = el_("div", "wb-bfr-head");
  const title = el_("div", "wb-bfr-title");
  const badge = el_("div", "wb-bfr-badge");
  const link = el_("div", "wb-bfr-link");
  head.append(title, badge, link);
  // left column
  const left = el_("div", "wb-bfr-left");
  const gauge = el_("canvas", "wb-bfr-gauge");
  const legend = el_("div", "wb-bfr-legend");
  legend.innerHTML =
    '<span><i style="background:#c8e6c9"></i>training</span>' +
    '<span><i style="background:#ffe082"></i>&gt; max SP</span>' +
    '<span><i style="background:#ffb74d"></i>1-s mean trip</span>' +
    '<span><i style="background:#ef9a9a"></i>instant trip</span>';
  const readouts = el_("div", "wb-bfr-readouts");
  const ro = {};
  for (const [k, label] of [
    ["sp", "Setpoint"],
    ["aop", "AOP"],
    ["maxsp", "Max SP"],
    ["tup", "Under pressure"],
  ]) {
    const cell = el_("div", "wb-bfr-ro");
    cell.append(el_("div", "wb-bfr-ro-label", label));
    ro[k] = el_("div", "wb-bfr-ro-value", "–");
    cell.append(ro[k]);
    readouts.append(cell);
  }
  const timers = el_("div", "wb-bfr-timers");
  const tm = {};
  for (const [k, label] of [
    ["phase", "Phase"],
    ["set", "Set"],
    ["settime", "Set timer"],
    ["reps", "Reps"],
    ["reptime", "Rep timer"],
  ]) {
    const row = el_("div", "wb-bfr-timer");
    row.append(el_("span", "wb-bfr-timer-label", label));
    tm[k] = el_("span", "wb-bfr-timer-value", "–");
    row.append(tm[k]);
    timers.append(row);
  }
  const vent = el_("button", "wb-bfr-vent", "VENT");
  vent.type = "button";
  vent.title = "Deflate the cuff now";
  const prompt = el_("div", "wb-bfr-prompt");
  // shown instead of a number when the kernel's pressure is not a live sample
  const staleNote = el_("div", "wb-bfr-pstale");
  const monLine = el_("div", "wb-bfr-monitors");
  left.append(gauge, staleNote, legend, readouts, timers, monLine, prompt, vent);
  // right column
  const right = el_("div", "wb-bfr-right");
  const traces = el_("canvas", "wb-bfr-traces");
  const alarmBox = el_("div", "wb-bfr-alarms");
  const alarmHead = el_("div", "wb-bfr-section", "Alarms");
  const alarmList = el_("div", "wb-bfr-alarm-list");
  const ackRow = el_("div", "wb-bfr-ack-row");
  const who = el_("input", "wb-bfr-who");
  who.type = "text";
  who.placeholder = "operator name";
  who.value = model.get("operator") || "";
  const ack = el_("button", "wb-bfr-ack", "Acknowledge");
  ack.type = "button";
  const msg = el_("span", "wb-bfr-msg");
  ackRow.append(who, ack, msg);
  const evHead = el_("div", "wb-bfr-section", "Event log");
  const evList = el_("div", "wb-bfr-events");
  alarmBox.append(alarmHead, alarmList, ackRow, evHead, evList);
  right.append(traces, alarmBox);
  const body = el_("div", "wb-bfr-body");
  body.append(left, right);
  const stale = el_("div", "wb-bfr-stale", "NO DATA FROM THE KERNEL");
  root.append(head, body, stale);
  el.append(root);

  // ---------------------------------------------------------------- data
  let cap = 4096;
  let rows = new Float32Array(cap * NCOL);
  let n = 0;
  let lastSeq = 0;
  let lastDataMs = performance.now();
  let dirty = true;
  let raf = null;
  let beats = 0;

  function appendRows(f32, reset) {
    const k = Math.floor(f32.length / NCOL);
    if (reset) n = 0;
    if (n + k > cap) {
      // keep what the window needs (plus margin), drop the oldest
      const keepFrom = Math.max(0, n + k - cap);
      if (keepFrom > 0) {
        rows.copyWithin(0, keepFrom * NCOL, n * NCOL);
        n -= keepFrom;
      }
      if (n + k > cap) {
        cap = 2 * (n + k);
        const bigger = new Float32Array(cap * NCOL);
        bigger.set(rows.subarray(0, n * NCOL));
        rows = bigger;
      }
    }
    rows.set(f32.subarray(0, k * NCOL), n * NCOL);
    n += k;
    // trim to the visible window (+20 %) so memory stays bounded
    if (n) {
      const tEnd = rows[(n - 1) * NCOL];
      let i0 = 0;
      const tMin = tEnd - 1.2 * model.get("window_s");
      while (i0 < n && rows[i0 * NCOL] < tMin) i0++;
      if (i0 > 256) {
        rows.copyWithin(0, i0 * NCOL, n * NCOL);
        n -= i0;
      }
    }
  }

  function latest(col) {
    return n ? rows[(n - 1) * NCOL + col] : NaN;
  }

  function draw() {
    raf = null;
    if (!dirty) return;
    dirty = false;
    const lim = model.get("limits") || {};
    const st = model.get("state") || {};
    const p = latest(1);
    const sp = latest(2);
    drawGauge(gauge, lim, p, sp, st.vented);
    const w = Math.max(360, Math.floor(right.clientWidth || 560));
    drawTraces(traces, w, rows, n, lim, model.get("window_s"));
    el.dataset.pressure = isFinite(p) ? p.toFixed(1) : "nan";
    el.dataset.setpoint = isFinite(sp) ? sp.toFixed(1) : "nan";
    el.dataset.rows = String(n);
    updateTimers();
  }

  function requestDraw() {
    dirty = true;
    if (raf === null) raf = requestAnimationFrame(draw);
  }

  function updateTimers() {
    const st = model.get("state") || {};
    const t = latest(0);
    ro.sp.textContent = `${fmtNum(latest(2))} mmHg`;
    tm.phase.textContent = st.phase || "–";
    tm.set.textContent =
      st.set_index !== null && st.set_index !== undefined
        ? `${st.set_index}${st.n_sets ? ` / ${st.n_sets}` : ""}`
        : "–";
    const has = (v) => v !== null && v !== undefined;
    tm.settime.textContent = has(st.rest_end_s)
      ? `rest ${fmtTime(st.rest_end_s - t)}`
      : has(st.phase_start_s)
        ? fmtTime(t - st.phase_start_s)
        : "--:--";
    prompt.textContent = st.prompt || "";
    tm.reps.textContent =
      st.reps_done !== null && st.reps_done !== undefined
        ? `${st.reps_done}${st.reps_target ? ` / ${st.reps_target}` : ""}`
        : "–";
    tm.reptime.textContent =
      st.rep_start_s !== null && st.rep_start_s !== undefined ? `${fmtNum(t - st.rep_start_s, 1)} s` : "–";
  }

  function renderLimits() {
    const lim = model.get("limits") || {};
    ro.aop.textContent = lim.aop_mmhg ? `${fmtNum(lim.aop_mmhg)} mmHg` : "–";
    ro.maxsp.textContent = `${fmtNum(lim.max_setpoint_mmhg)} mmHg`;
    requestDraw();
  }

  function renderState() {
    const st = model.get("state") || {};
    const alarms = st.alarms || [];
    const pstale = !!st.pressure_stale;
    const pressure = pstale ? NaN : latest(1);
    const inflated = isFinite(pressure) && pressure > ((model.get("limits") || {}).inflated_mmhg || 20);
    let label;
    let cls;
    if (pstale) {
      // never show an old value as the cuff's pressure, nor guess VENTED from it
      label = alarms.length ? "ALARM · NO LIVE PRESSURE" : "NO LIVE PRESSURE";
      cls = alarms.length ? "alarm" : "stale";
    } else if (alarms.length) {
      label = inflated ? "ALARM · VENTING" : "ALARM · VENTED";
      cls = "alarm";
    } else if (st.vented || !st.armed) {
      label = inflated ? "VENTING" : "VENTED";
      cls = "vented";
    } else {
      label = inflated ? "INFLATED" : "ARMED";
      cls = inflated ? "inflated" : "armed";
    }
    badge.textContent = label;
    badge.className = `wb-bfr-badge wb-bfr-badge-${cls}`;
    el.dataset.pstale = pstale ? "1" : "0";
    const mons = st.monitors || {};
    monLine.replaceChildren(el_("span", "wb-bfr-ro-label", "Monitors "));
    for (const [name, status] of Object.entries(mons)) {
      const armed = status === "armed";
      const chip = el_("span", `wb-bfr-mon ${armed ? "wb-bfr-mon-on" : "wb-bfr-mon-off"}`,
        `${name.toUpperCase()} ${armed ? "armed" : "off"}`);
      chip.title = armed ? `${name} can vent the cuff` : `${name} not armed: ${status}`;
      monLine.append(chip);
    }
    if (!Object.keys(mons).length) monLine.append(el_("span", "wb-bfr-mon wb-bfr-mon-off", "none"));
    el.dataset.monitors = Object.entries(mons).filter(([, s]) => s === "armed").map(([n]) => n).join(",");
    el.dataset.phase = st.phase || "";
    staleNote.classList.toggle("wb-bfr-show", pstale);
    if (pstale) {
      const last = st.last_pressure_mmhg;
      const age = st.pressure_age_s;
      staleNote.textContent =
        last !== null && last !== undefined
          ? `no live pressure: last reading ${fmtNum(last, 1)} mmHg${age !== null && age !== undefined ? `, ${fmtNum(age, 1)} s ago` : ""}`
          : "no pressure reading";
    }
    root.dataset.state = cls;
    el.dataset.vented = st.vented ? "1" : "0";
    el.dataset.alarms = String(alarms.length);
    ro.tup.textContent = st.inflated_s !== null && st.inflated_s !== undefined ? fmtTime(st.inflated_s) : "–";
    alarmList.replaceChildren();
    if (!alarms.length) alarmList.append(el_("div", "wb-bfr-none", "No active alarms"));
    const order = { high: 0, medium: 1, low: 2 };
    for (const a of [...alarms].sort((x, y) => (order[x.priority] ?? 3) - (order[y.priority] ?? 3))) {
      const row = el_("div", `wb-bfr-alarm wb-bfr-prio-${a.priority}`);
      row.append(el_("span", "wb-bfr-prio", PRIORITY_LABEL[a.priority] || a.priority));
      row.append(el_("span", "wb-bfr-reason", (a.reason || "").replaceAll("_", " ")));
      row.append(el_("span", "wb-bfr-amsg", a.message || ""));
      if (a.t_s !== null && a.t_s !== undefined) row.append(el_("span", "wb-bfr-at", `t=${fmtNum(a.t_s, 1)} s`));
      alarmList.append(row);
    }
    const canAck = alarms.length > 0 && st.vented && !inflated;
    ack.disabled = !canAck;
    ack.title = canAck ? "Clear the latched alarms" : alarms.length ? "Possible once the cuff is vented" : "No alarm to acknowledge";
    evList.replaceChildren();
    for (const e of [...(st.events || [])].reverse()) {
      const row = el_("div", `wb-bfr-event wb-bfr-prio-${e.priority || "none"}`);
      row.append(el_("span", "wb-bfr-at", `${fmtNum(e.t_s, 1)} s`));
      row.append(el_("span", "wb-bfr-ekind", e.kind));
      const value = e.value !== null && e.value !== undefined ? ` ${fmtNum(e.value)}` : "";
      row.append(el_("span", "wb-bfr-ecode", (e.code || "").replaceAll("_", " ") + value));
      row.append(el_("span", "wb-bfr-amsg", e.message || ""));
      evList.append(row);
    }
    requestDraw();
  }

  function renderTitle() {
    title.textContent = model.get("title") || "BFR session";
  }

  model.on("msg:custom", (m, buffers) => {
    if (!m || m.type !== "trace") return;
    lastSeq = m.seq;
    lastDataMs = performance.now();
    stale.classList.remove("wb-bfr-show");
    if (buffers && buffers.length) {
      const b = buffers[0];
      const raw = b.buffer ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b;
      appendRows(new Float32Array(raw), !!m.reset);
    } else if (m.reset) {
      n = 0;
    }
    renderState();
  });
  model.on("change:state", renderState);
  model.on("change:limits", renderLimits);
  model.on("change:title", renderTitle);
  model.on("change:message", () => {
    msg.textContent = model.get("message") || "";
  });
  model.on("change:operator", () => {
    if (document.activeElement !== who) who.value = model.get("operator") || "";
  });

  // ---------------------------------------------------------------- actions
  vent.addEventListener("click", () => {
    model.send({ type: "vent", who: who.value || model.get("operator") || "operator" });
    msg.textContent = "VENT sent…";
  });
  ack.addEventListener("click", () => {
    model.send({ type: "ack", who: who.value.trim() });
  });
  who.addEventListener("change", () => {
    model.set("operator", who.value.trim());
    model.save_changes();
  });

  // ---------------------------------------------------------------- heartbeat
  function beat() {
    beats += 1;
    el.dataset.heartbeats = String(beats);
    model.send({ type: "heartbeat", seen: lastSeq });
    const ageMs = performance.now() - lastDataMs;
    const isStale = ageMs > model.get("stale_ms");
    stale.classList.toggle("wb-bfr-show", isStale);
    link.className = `wb-bfr-link ${isStale ? "wb-bfr-link-bad" : "wb-bfr-link-ok"}`;
    link.textContent = isStale ? "kernel silent" : "operator link";
    el.dataset.stale = isStale ? "1" : "0";
  }
  const ticker = startTicker(model.get("heartbeat_ms"), beat);
  model.on("change:heartbeat_ms", () => ticker.period(model.get("heartbeat_ms")));

  const ro_ = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => requestDraw()) : null;
  if (ro_) ro_.observe(right);

  renderTitle();
  renderLimits();
  renderState();
  model.send({ type: "ready" });
  beat();

  return () => {
    ticker.stop();
    if (ro_) ro_.disconnect();
    if (raf !== null) cancelAnimationFrame(raf);
  };
}

export default { render };

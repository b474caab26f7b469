// Browser camera for workbench.widgets.camera.CameraWidget (anywidget ESM).
// Asks for the viewer's camera, sends frames as binary JPEG (long side `send_long_px`) at up to
// `fps`, one frame in flight: when a reply arrives the newest camera frame goes next (latest
// frame wins, nothing queues). The live <video> is shown as is; the returned skeleton and angles
// are drawn on a transparent canvas over it, only when a reply arrives (no per-frame redraw of
// the video: on a shared 2-core machine that CPU is the kernel's). Timings per drawn frame are
// kept in `el.wbTimings` for bench/pose_latency_bench.py (see camera.py).

function render({ model, el }) {
  const wrap = document.createElement("div");
  wrap.className = "wb-camera";
  const video = document.createElement("video");
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  video.className = "wb-camera-video";
  video.width = model.get("width");
  video.height = model.get("height");
  const canvas = document.createElement("canvas");
  canvas.className = "wb-camera-canvas";
  const status = document.createElement("div");
  status.className = "wb-camera-status";
  wrap.append(video, canvas, status);
  el.append(wrap);
  // counters for tests and the bench, written to data-* attributes once per paint (every
  // attribute write makes the page restyle: JupyterLab's style sheets make that costly)
  // frames: sent; replies: received (frames - replies: in flight); poses: replies with a
  // person; overlays: paints with a skeleton; drawn: paints with a new result (timed)
  const counts = { frames: 0, replies: 0, poses: 0, overlays: 0, drawn: 0, imagePx: "", measured: "" };
  function flushCounts() {
    for (const [k, v] of Object.entries(counts)) {
      if (v !== "" && el.dataset[k] !== String(v)) el.dataset[k] = String(v);
    }
  }
  flushCounts();

  const grab = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  let stream = null;
  let landmarks = null; // Float32Array 33*4: x, y, z, visibility
  let angles = {};
  let inflightT = null; // grab time of the frame the kernel is working on (null: none)
  let pendingT = null; // capture time (performance.now) of the frame whose result is pending draw
  const latencies = [];
  const kernelMs = [];
  // per drawn frame, ms: [encode, transit (both ways, minus kernel), kernel, paint wait, frame
  // age at grab (capture -> grab; -1 if the browser does not say)]
  const stages = [];
  const sentAt = new Map(); // grab time -> [encoded time, reply time, frame age at grab]
  el.wbTimings = { latencies, kernelMs, stages };
  let drawPending = false;
  let inflightSince = 0;
  let timer = null;
  let raf = null;
  let stopped = false;

  function setStatus(text) {
    status.textContent = text || "";
    status.classList.toggle("wb-camera-prompt", !model.get("view_ok"));
    el.dataset.status = text || "";
  }
  model.on("change:view_ok", () => setStatus(model.get("status")));
  setStatus(model.get("status") || "Starting camera…");
  model.on("change:status", () => setStatus(model.get("status")));

  async function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      model.set("camera_error", "this browser page has no camera access (needs https or localhost)");
      model.save_changes();
      setStatus(model.get("camera_error"));
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: model.get("width") }, height: { ideal: model.get("height") } },
        audio: false,
      });
    } catch (err) {
      model.set("camera_error", `camera refused or absent: ${err && err.name ? err.name : err}`);
      model.save_changes();
      setStatus(model.get("camera_error"));
      return;
    }
    if (stopped) {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    video.srcObject = stream;
    video.addEventListener("loadedmetadata", () => {
      // the element's box keeps the camera's aspect ratio, so the overlay lines up
      video.width = video.videoWidth;
      video.height = video.videoHeight;
    });
    await video.play().catch(() => {});
    setStatus(model.get("status") || "");
    schedule();
  }

  function requestDraw() {
    if (drawPending || stopped) return;
    drawPending = true;
    raf = requestAnimationFrame(draw);
  }
  model.on("change:show_angles", requestDraw);
  model.on("change:min_visibility", requestDraw);

  function schedule() {
    if (timer) clearInterval(timer);
    const fps = Math.max(1, Math.min(30, model.get("fps")));
    timer = setInterval(sendFrame, 1000 / fps);
  }
  model.on("change:fps", schedule);

  // Newest camera frame: its capture (or, failing that, presentation) time on the
  // performance.now() clock, to report how old a frame already is when it is grabbed.
  let frameAt = null;
  if ("requestVideoFrameCallback" in video) {
    const onVideoFrame = (_now, meta) => {
      if (stopped) return;
      frameAt = typeof meta.captureTime === "number" ? meta.captureTime : meta.presentationTime;
      video.requestVideoFrameCallback(onVideoFrame);
    };
    video.requestVideoFrameCallback(onVideoFrame);
  }

  let lastSent = -Infinity;
  function sendFrame() {
    if (!model.get("running") || video.readyState < 2 || !video.videoWidth) return;
    const now = performance.now();
    // back-pressure: one frame in flight (after 2 s without its reply, assume it was lost)
    if (inflightT !== null && now - inflightSince < 2000) return;
    const fps = Math.max(1, Math.min(30, model.get("fps")));
    if (now - lastSent < 1000 / fps - 4) return; // at most `fps` frames per second
    const w = video.videoWidth;
    const h = video.videoHeight;
    const scale = Math.min(1, model.get("send_long_px") / Math.max(w, h));
    const gw = Math.round(w * scale);
    const gh = Math.round(h * scale);
    if (grab.width !== gw || grab.height !== gh) {
      grab.width = gw;
      grab.height = gh;
    }
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    const age = frameAt !== null && frameAt <= now ? now - frameAt : null;
    inflightT = now;
    inflightSince = now;
    lastSent = now;
    // synchronous encode: toBlob's asynchronous hop costs more than encoding a small frame
    const url = grab.toDataURL("image/jpeg", model.get("jpeg_quality"));
    const b64 = atob(url.slice(url.indexOf(",") + 1));
    const bytes = new Uint8Array(b64.length);
    for (let i = 0; i < b64.length; i++) bytes[i] = b64.charCodeAt(i);
    sentAt.set(now, [performance.now(), null, age]);
    if (sentAt.size > 50) sentAt.delete(sentAt.keys().next().value);
    model.send({ type: "frame", t_ms: now, width: grab.width, height: grab.height }, undefined, [
      bytes.buffer,
    ]);
    counts.frames += 1;
  }

  model.on("msg:custom", (msg, buffers) => {
    if (!msg || msg.type !== "pose") return;
    counts.replies += 1;
    if (Array.isArray(msg.image_px)) counts.imagePx = msg.image_px.join("x");
    if (typeof msg.t_ms !== "number" || msg.t_ms === inflightT) {
      // latest frame wins: the next frame is grabbed now, not at the next timer tick (a late
      // reply to a frame given up on must not start a second stream of frames)
      inflightT = null;
      queueMicrotask(sendFrame);
    }
    if (msg.found && buffers && buffers.length) {
      const b = buffers[0];
      const raw = b.buffer ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b;
      landmarks = new Float32Array(raw);
      angles = msg.angles || {};
      pendingT = typeof msg.t_ms === "number" ? msg.t_ms : null;
      if (pendingT !== null && sentAt.has(pendingT)) sentAt.get(pendingT)[1] = performance.now();
      if (typeof msg.kernel_ms === "number") {
        kernelMs.push(msg.kernel_ms);
        if (kernelMs.length > 500) kernelMs.shift();
      }
      counts.poses += 1;
    } else {
      landmarks = null;
      angles = {};
    }
    requestDraw();
  });

  function draw() {
    drawPending = false;
    if (stopped) return;
    const w = video.videoWidth || model.get("width");
    const h = video.videoHeight || model.get("height");
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.clearRect(0, 0, w, h);
    if (landmarks && landmarks.length >= 33 * 4) {
      const minVis = model.get("min_visibility");
      ctx.lineWidth = Math.max(2, w / 200);
      ctx.strokeStyle = "#00e5ff";
      for (const [a, b] of model.get("skeleton")) {
        if (landmarks[a * 4 + 3] < minVis || landmarks[b * 4 + 3] < minVis) continue;
        ctx.beginPath();
        ctx.moveTo(landmarks[a * 4] * w, landmarks[a * 4 + 1] * h);
        ctx.lineTo(landmarks[b * 4] * w, landmarks[b * 4 + 1] * h);
        ctx.stroke();
      }
      ctx.fillStyle = "#ff4081";
      for (let i = 0; i < 33; i++) {
        if (landmarks[i * 4 + 3] < minVis) continue;
        ctx.beginPath();
        ctx.arc(landmarks[i * 4] * w, landmarks[i * 4 + 1] * h, Math.max(3, w / 160), 0, 2 * Math.PI);
        ctx.fill();
      }
      const shown = model.get("show_angles");
      ctx.font = `${Math.max(12, Math.round(w / 40))}px sans-serif`;
      let y = Math.max(18, w / 30);
      for (const name of shown) {
        const a = angles[name];
        if (!a) continue;
        const [deg, quality, unc, reason] = a;
        ctx.fillStyle = "rgba(0,0,0,0.55)";
        ctx.fillRect(6, y - 16, 330, 22);
        const label = name.replace(/_/g, " ");
        if (deg === null || deg === undefined) {
          ctx.fillStyle = "#bdbdbd";
          ctx.fillText(`${label}: not measurable (${reason || "?"})`, 10, y);
        } else {
          ctx.fillStyle = quality === "good" ? "#76ff03" : quality === "fair" ? "#ffd600" : "#ff5252";
          const u = unc === null || unc === undefined ? "" : ` ± ${Math.round(unc)}°`;
          ctx.fillText(`${label}: ${Math.round(deg)}°${u}`, 10, y);
          counts.measured = `${label}: ${Math.round(deg)}°${u}`;
        }
        y += 24;
      }
      counts.overlays += 1;
      if (pendingT !== null) {
        // camera-to-screen latency: frame grabbed -> angle text drawn (this paint)
        const painted = performance.now();
        latencies.push(Math.round(painted - pendingT));
        const st = sentAt.get(pendingT) || [NaN, NaN, null];
        const k = kernelMs.length ? kernelMs[kernelMs.length - 1] : NaN;
        const age = st[2] === null ? NaN : st[2];
        stages.push([st[0] - pendingT, st[1] - st[0] - k, k, painted - st[1], age].map((v) => Math.round(v)));
        if (stages.length > 500) stages.shift();
        if (latencies.length > 500) latencies.shift();
        counts.drawn += 1;
        pendingT = null;
      }
    }
    flushCounts();
  }

  start();
  return () => {
    stopped = true;
    if (timer) clearInterval(timer);
    if (raf) cancelAnimationFrame(raf);
    if (stream) stream.getTracks().forEach((t) => t.stop());
  };
}

export default { render };

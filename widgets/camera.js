// Browser camera for workbench.widgets.camera.CameraWidget (anywidget ESM).
// Asks for the viewer's camera, sends frames as binary JPEG at `fps` (one frame in flight at a
// time), and draws the returned skeleton and angles over the live image.

function render({ model, el }) {
  const wrap = document.createElement("div");
  wrap.className = "wb-camera";
  const video = document.createElement("video");
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  const canvas = document.createElement("canvas");
  canvas.className = "wb-camera-canvas";
  const status = document.createElement("div");
  status.className = "wb-camera-status";
  wrap.append(canvas, status);
  el.append(wrap);
  el.dataset.poses = "0";
  el.dataset.overlays = "0";
  el.dataset.frames = "0";

  const grab = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  let stream = null;
  let landmarks = null; // Float32Array 33*4: x, y, z, visibility
  let angles = {};
  let inflight = false;
  let pendingT = null; // capture time (performance.now) of the frame whose result is pending draw
  const latencies = [];
  const kernelMs = [];
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
    await video.play().catch(() => {});
    setStatus(model.get("status") || "");
    schedule();
    raf = requestAnimationFrame(draw);
  }

  function schedule() {
    if (timer) clearInterval(timer);
    const fps = Math.max(1, Math.min(30, model.get("fps")));
    timer = setInterval(sendFrame, 1000 / fps);
  }
  model.on("change:fps", schedule);

  function sendFrame() {
    if (!model.get("running") || video.readyState < 2 || !video.videoWidth) return;
    const now = performance.now();
    if (inflight && now - inflightSince < 2000) return; // back-pressure: one frame in flight
    const w = video.videoWidth;
    const h = video.videoHeight;
    const scale = Math.min(1, model.get("width") / w);
    grab.width = Math.round(w * scale);
    grab.height = Math.round(h * scale);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    inflight = true;
    inflightSince = now;
    grab.toBlob(
      async (blob) => {
        if (!blob) {
          inflight = false;
          return;
        }
        const buf = await blob.arrayBuffer();
        model.send({ type: "frame", t_ms: now, width: grab.width, height: grab.height }, undefined, [buf]);
        el.dataset.frames = String(Number(el.dataset.frames) + 1);
      },
      "image/jpeg",
      model.get("jpeg_quality"),
    );
  }

  model.on("msg:custom", (msg, buffers) => {
    if (!msg || msg.type !== "pose") return;
    inflight = false;
    if (msg.found && buffers && buffers.length) {
      const b = buffers[0];
      const raw = b.buffer ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b;
      landmarks = new Float32Array(raw);
      angles = msg.angles || {};
      pendingT = typeof msg.t_ms === "number" ? msg.t_ms : null;
      if (typeof msg.kernel_ms === "number") {
        kernelMs.push(msg.kernel_ms);
        if (kernelMs.length > 500) kernelMs.shift();
        el.dataset.kernelMs = kernelMs.join(",");
      }
      el.dataset.poses = String(Number(el.dataset.poses) + 1);
    } else {
      landmarks = null;
      angles = {};
    }
  });

  function draw() {
    if (stopped) return;
    const w = video.videoWidth || model.get("width");
    const h = video.videoHeight || model.get("height");
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    if (video.readyState >= 2) ctx.drawImage(video, 0, 0, w, h);
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
          el.dataset.measured = `${label}: ${Math.round(deg)}°${u}`;
        }
        y += 24;
      }
      el.dataset.overlays = String(Number(el.dataset.overlays) + 1);
      if (pendingT !== null) {
        // camera-to-screen latency: frame grabbed -> angle text drawn (this paint)
        latencies.push(Math.round(performance.now() - pendingT));
        if (latencies.length > 500) latencies.shift();
        el.dataset.latencies = latencies.join(",");
        pendingT = null;
      }
    }
    raf = requestAnimationFrame(draw);
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

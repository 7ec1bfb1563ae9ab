// aekit explorer: the page's behaviour. Plain JS, no build step, no network but
// its own server. Every server answer is JSON; errors carry {"error": "..."}.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const S = { // everything the page knows; window.aekitExplorer for the console
    info: null, points: [], labels: null, extent: [0, 1, 0, 1], code: null,
    cursor: null, picks: [], path: null, upload: null, decodes: 0,
  };
  window.aekitExplorer = S;

  // -- talking to the server ----------------------------------------------------
  async function api(path, body, contentType) {
    const init = body === undefined ? {} : {
      method: "POST",
      body: contentType ? body : JSON.stringify(body),
      headers: { "content-type": contentType || "application/json" },
    };
    const response = await fetch(path, init);
    let data;
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function showError(e) {
    const el = $("error");
    el.textContent = String((e && e.message) || e);
    el.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  // -- showing samples: images as pixels, vectors as bars ------------------------
  function render(el, payload) {
    if (payload.image) {
      let img = el.querySelector("img");
      if (!img) { img = new Image(); img.alt = "decoded sample"; el.replaceChildren(img); }
      img.src = payload.image;
    } else if (payload.values) {
      el.replaceChildren(bars(payload.values, el.classList.contains("big") ? 224 : 112));
    }
  }

  function asPayload(input) { // an item's input: a data URL or a list of values
    return S.info.kind === "image" ? { image: input } : { values: input };
  }

  function bars(values, width) {
    const c = document.createElement("canvas");
    const h = Math.round(width * 0.6);
    c.width = width; c.height = h;
    const g = c.getContext("2d");
    const unit = S.info.domain === "unit";
    const lo = unit ? 0 : -3, hi = unit ? 1 : 3;
    const y = (v) => h - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * h;
    const w = width / values.length;
    g.fillStyle = "#f4f4f4"; g.fillRect(0, 0, width, h);
    g.strokeStyle = "#bbb"; g.beginPath(); g.moveTo(0, y(0)); g.lineTo(width, y(0)); g.stroke();
    g.fillStyle = "#3b6ea8";
    values.forEach((v, i) => {
      const top = Math.min(y(v), y(0));
      g.fillRect(i * w + w * 0.1, top, Math.max(1, w * 0.8), Math.max(1, Math.abs(y(v) - y(0))));
    });
    return c;
  }

  // -- the map ------------------------------------------------------------------
  const map = $("map");
  const ctx = map.getContext("2d");
  const layer = document.createElement("canvas"); // the points, drawn once
  const SIZE = 560;

  function toPx([u, v]) {
    const [u0, u1, v0, v1] = S.extent;
    return [((u - u0) / (u1 - u0)) * SIZE, (1 - (v - v0) / (v1 - v0)) * SIZE];
  }

  function toPlane(x, y) {
    const [u0, u1, v0, v1] = S.extent;
    return [u0 + (x / SIZE) * (u1 - u0), v0 + (1 - y / SIZE) * (v1 - v0)];
  }

  function colour(i) {
    return S.labels ? PALETTE[S.labels[i] % PALETTE.length] : "#3b6ea8";
  }

  function drawPoints() {
    const dpr = window.devicePixelRatio || 1;
    for (const c of [map, layer]) { c.width = SIZE * dpr; c.height = SIZE * dpr; }
    const g = layer.getContext("2d");
    g.scale(dpr, dpr);
    g.fillStyle = "#fff"; g.fillRect(0, 0, SIZE, SIZE);
    g.globalAlpha = 0.75;
    S.points.forEach((p, i) => {
      const [x, y] = toPx(p);
      g.fillStyle = colour(i);
      g.beginPath(); g.arc(x, y, 2.4, 0, 2 * Math.PI); g.fill();
    });
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  function marker(p, draw) {
    if (!p) return;
    const [x, y] = toPx(p);
    ctx.save(); ctx.translate(x, y); draw(); ctx.restore();
  }

  function redraw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(layer, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (S.path) {
      ctx.strokeStyle = "#222"; ctx.lineWidth = 1.5; ctx.beginPath();
      S.path.forEach((p, i) => { const [x, y] = toPx(p); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.stroke();
    }
    S.picks.forEach((pick, k) => marker(pick.point, () => {
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(0, 0, 7, 0, 2 * Math.PI); ctx.stroke();
      ctx.fillStyle = "#000"; ctx.font = "bold 13px sans-serif"; ctx.fillText("AB"[k], 9, -8);
    }));
    marker(S.upload, () => {
      ctx.fillStyle = "#ffd400"; ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(0, -9); ctx.lineTo(8, 0); ctx.lineTo(0, 9); ctx.lineTo(-8, 0);
      ctx.closePath(); ctx.fill(); ctx.stroke();
    });
    marker(S.cursor, () => {
      ctx.strokeStyle = "#d00"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(0, 0, 9, 0, 2 * Math.PI);
      ctx.moveTo(-15, 0); ctx.lineTo(15, 0); ctx.moveTo(0, -15); ctx.lineTo(0, 15); ctx.stroke();
    });
  }

  function eventPx(e) {
    const box = map.getBoundingClientRect();
    return [((e.clientX - box.left) / box.width) * SIZE, ((e.clientY - box.top) / box.height) * SIZE];
  }

  function nearest(x, y) {
    let best = -1, bestD = 8 * 8;
    S.points.forEach((p, i) => {
      const [px, py] = toPx(p);
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bestD) { best = i; bestD = d; }
    });
    return best;
  }

  let drag = null;
  map.addEventListener("pointerdown", (e) => {
    map.setPointerCapture(e.pointerId);
    const [x, y] = eventPx(e);
    drag = { x, y, moved: false };
    moveCursor(x, y);
  });
  map.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [x, y] = eventPx(e);
    if (Math.hypot(x - drag.x, y - drag.y) > 3) drag.moved = true;
    moveCursor(x, y);
  });
  map.addEventListener("pointerup", (e) => {
    if (drag && !drag.moved) {
      const [x, y] = eventPx(e);
      const i = nearest(x, y);
      if (i >= 0) pick(i);
    }
    drag = null;
  });

  function moveCursor(x, y) {
    x = Math.min(SIZE, Math.max(0, x)); y = Math.min(SIZE, Math.max(0, y));
    S.cursor = toPlane(x, y);
    redraw();
    requestDecode({ point: S.cursor });
  }

  // -- decoding: one request in flight, the latest position wins -----------------
  const queue = { busy: false, next: null };
  function requestDecode(body) {
    // a conditional run decodes under the class the selector names, or under the
    // values of the CSV columns it is conditioned on
    if (S.info && S.info.condition_columns) {
      body.condition = S.info.condition_columns.map((_, j) => Number($(`condition-${j}`).value));
    } else if (S.info && S.info.conditional) {
      body.label = Number($("class").value);
    }
    queue.next = body;
    if (!queue.busy) pump();
  }

  async function pump() {
    queue.busy = true;
    while (queue.next) {
      const body = queue.next;
      queue.next = null;
      const t0 = performance.now();
      try {
        const r = await api("/api/decode", body);
        showDecoded(r, performance.now() - t0, body.code !== undefined);
      } catch (e) { showError(e); }
    }
    queue.busy = false;
  }

  function showDecoded(r, ms, fromSliders) {
    S.decodes += 1;
    render($("cursor-view"), r);
    $("cursor-ms").textContent = `${ms.toFixed(1)} ms`;
    $("cursor-point").textContent = `(${r.point.map((v) => v.toFixed(2)).join(", ")})`;
    S.code = r.code;
    if (fromSliders) { S.cursor = r.point; redraw(); } else setSliders(r.code);
  }

  // -- sliders ------------------------------------------------------------------
  function buildSliders() {
    const box = $("sliders");
    box.replaceChildren();
    S.info.slider_range.forEach(([lo, hi], i) => {
      const row = document.createElement("label");
      row.className = "slider";
      const name = document.createElement("span");
      name.textContent = `z${i + 1}`;
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: lo, max: hi, step: (hi - lo) / 400, value: (lo + hi) / 2 });
      input.dataset.dim = i;
      const value = document.createElement("output");
      input.addEventListener("input", () => {
        if (!S.code) return;
        S.code[i] = Number(input.value);
        value.textContent = Number(input.value).toFixed(2);
        requestDecode({ code: S.code.slice() });
      });
      row.append(name, input, value);
      box.append(row);
    });
  }

  function setSliders(code) {
    document.querySelectorAll("#sliders input").forEach((input, i) => {
      input.value = code[i];
      input.nextElementSibling.textContent = code[i].toFixed(2);
    });
  }

  // -- picking points and interpolating -------------------------------------------
  async function pick(index) {
    try {
      const r = await api("/api/item", { index });
      if (S.picks.length !== 1) { S.picks = []; S.path = null; $("strip").replaceChildren(); }
      S.picks.push(r);
      const k = S.picks.length === 1 ? "a" : "b";
      if (k === "a") for (const id of ["pick-b-in", "pick-b-out"]) $(id).replaceChildren();
      render($(`pick-${k}-in`), asPayload(r.input));
      render($(`pick-${k}-out`), r);
      const label = r.label === null ? "" : `, label ${r.label}`;
      $("pick-text").textContent = k === "a"
        ? `A is point ${index}${label}. Click another point for the interpolation.`
        : `B is point ${index}${label}. Interpolating A to B in code space:`;
      if (k === "b") await interpolate();
      if (k === "a" && S.info.sae && F.latent !== null) steerFrom(index, null);
      redraw();
    } catch (e) { showError(e); }
  }

  async function interpolate() {
    const [a, b] = S.picks.map((p) => p.index);
    const r = await api("/api/interpolate", { a, b, steps: 10 });
    S.path = r.points;
    const strip = $("strip");
    strip.replaceChildren();
    r.frames.forEach((frame) => {
      const cell = document.createElement("div");
      cell.className = "view small";
      strip.append(cell);
      render(cell, frame);
    });
  }

  // -- drawing and uploading --------------------------------------------------------
  const pad = $("pad");
  const pen = pad.getContext("2d");
  function clearPad() {
    pen.fillStyle = S.info && !S.info.dark_background ? "#fff" : "#000";
    pen.fillRect(0, 0, pad.width, pad.height);
  }
  let drawing = false;
  pad.addEventListener("pointerdown", (e) => {
    drawing = true; pad.setPointerCapture(e.pointerId);
    pen.strokeStyle = S.info.dark_background ? "#fff" : "#000";
    pen.lineWidth = 13; pen.lineCap = "round"; pen.lineJoin = "round";
    pen.beginPath(); pen.moveTo(e.offsetX, e.offsetY); pen.lineTo(e.offsetX + 0.1, e.offsetY); pen.stroke();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    pen.lineTo(e.offsetX, e.offsetY); pen.stroke();
  });
  pad.addEventListener("pointerup", () => {
    if (!drawing) return;
    drawing = false;
    pad.toBlob((blob) => encodeImage(blob, "no", S.info.dark_background), "image/png");
  });
  $("clear").addEventListener("click", () => { clearPad(); S.upload = null; redraw(); });
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) encodeImage(file, $("invert").value, false);
  });

  async function encodeImage(blob, invert, fit) {
    try {
      const query = `?invert=${invert}&fit=${fit ? "true" : "false"}`;
      const r = await api(`/api/encode${query}`, blob, blob.type || "application/octet-stream");
      showEncoded(r, r.inverted ? " The image was inverted to match the data." : "");
    } catch (e) { showError(e); }
  }

  $("encode-values").addEventListener("click", async () => {
    const values = $("values").value.split(/[\s,;]+/).filter((s) => s !== "").map(Number);
    try {
      showEncoded(await api("/api/encode-values", { values }), "");
    } catch (e) { showError(e); }
  });

  function showEncoded(r, extra) {
    $("upload-result").hidden = false;
    render($("upload-in"), asPayload(r.input));
    render($("upload-out"), r);
    S.upload = r.point;
    redraw();
    const code = r.code.map((v) => v.toFixed(2)).join(", ");
    $("upload-text").textContent = `Its code is (${code}), the yellow diamond on the map.${extra}`;
  }

  // -- a sparse autoencoder's features: pick a latent, see its top inputs, steer -------
  const F = { latent: null, index: null, busy: false, next: null };
  S.features = F;

  async function startFeatures() {
    $("features-card").hidden = false;
    $("sliders-card").hidden = true; // one slider per latent: the steering replaces them
    const r = await api("/api/latents");
    const list = $("latent-list");
    list.replaceChildren();
    r.latents.forEach((l) => {
      const option = document.createElement("option");
      option.value = String(l.latent);
      option.textContent = `latent ${l.latent}: ${(100 * l.frequency).toFixed(2)}%`;
      list.append(option);
    });
    list.addEventListener("change", () => showLatent(Number(list.value)));
    if (r.latents.length) { list.selectedIndex = 0; await showLatent(r.latents[0].latent); }
  }

  async function showLatent(latent) {
    try {
      const r = await api("/api/latent", { latent });
      F.latent = latent;
      $("latent-text").textContent = `latent ${latent} fires on `
        + `${(100 * r.frequency).toFixed(2)}% of the inputs, mean activation `
        + `${r.mean_activation.toFixed(3)}`;
      render($("latent-direction"), r.direction);
      $("direction-columns").textContent = r.direction.columns
        ? "most weighted: " + r.direction.columns.map(([n, w]) => `${n} ${w > 0 ? "+" : ""}${w}`).join(", ")
        : "";
      const tops = $("latent-tops");
      tops.replaceChildren();
      r.top.forEach((t) => {
        const cell = document.createElement("div");
        cell.className = "view";
        cell.title = `input ${t.index}: activation ${t.activation}`;
        cell.addEventListener("click", () => steerFrom(t.index, null));
        tops.append(cell);
        render(cell, t);
      });
      const slider = $("steer");
      Object.assign(slider, { min: r.range[0], max: r.range[1], step: (r.range[1] - r.range[0]) / 200 });
      // steer the picked point A if there is one, else the latent's strongest input
      const start = S.picks.length ? S.picks[0].index : (r.top.length ? r.top[0].index : null);
      if (start !== null) steerFrom(start, null);
    } catch (e) { showError(e); }
  }

  function steerFrom(index, value) {
    F.index = index;
    $("steer-index").textContent = String(index);
    requestSteer(value);
  }

  function requestSteer(value) {
    F.next = { index: F.index, latent: F.latent, value };
    if (!F.busy) pumpSteer();
  }

  async function pumpSteer() {
    F.busy = true;
    while (F.next) {
      const body = F.next;
      F.next = null;
      try {
        // no value: decoded with its own activation, where the slider then starts
        const r = await api("/api/steer", body.value === null
          ? { index: body.index, latent: body.latent } : body);
        render($("steer-in"), asPayload(r.input));
        render($("steer-out"), r);
        $("steer").value = r.value;
        $("steer-value").textContent = r.value.toFixed(2);
        $("steer-text").textContent = `its own activation ${r.activation.toFixed(3)}; `
          + `decoded with ${r.value.toFixed(3)} (${r.l0} latents active)`;
        F.steered = (F.steered || 0) + 1;
      } catch (e) { showError(e); }
    }
    F.busy = false;
  }
  $("steer").addEventListener("input", () => {
    if (F.latent !== null && F.index !== null) requestSteer(Number($("steer").value));
  });

  // -- start ----------------------------------------------------------------------
  async function start() {
    try {
      S.info = await api("/api/info");
      const scatter = await api("/api/points");
      Object.assign(S, { points: scatter.points, labels: scatter.labels, extent: S.info.plane.extent });
      describe();
      drawPoints();
      if (!S.info.sae) buildSliders();
      clearPad();
      const [u0, u1, v0, v1] = S.extent;
      S.cursor = [(u0 + u1) / 2, (v0 + v1) / 2];
      redraw();
      requestDecode({ point: S.cursor });
      if (S.info.sae) await startFeatures();
      document.body.dataset.ready = "1";
    } catch (e) { showError(e); }
  }

  function describe() {
    const info = S.info;
    const variational = info.variational ? " (a VAE: codes are posterior means)" : "";
    $("summary").textContent = `${info.run}: ${info.model}, code size ${info.latent_dim}${variational}, `
      + `${info.n_points} points of ${info.data}`;
    $("plane").textContent = `The map shows ${info.plane.description}.`;
    $("axis-x").textContent = info.plane.axes[0];
    $("axis-y").textContent = info.plane.axes[1];
    const legend = $("legend");
    legend.replaceChildren();
    if (S.labels) {
      const seen = [...new Set(S.labels)].sort((a, b) => a - b);
      for (const y of seen) {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = PALETTE[y % PALETTE.length];
        item.append(swatch, info.classes ? info.classes[y] : String(y));
        legend.append(item);
      }
    }
    if (info.condition_columns) {
      const pick = $("condition-pick");
      pick.replaceChildren();
      info.condition_columns.forEach((name, j) => {
        const row = document.createElement("label");
        const input = document.createElement("input");
        Object.assign(input, { type: "number", id: `condition-${j}`, step: "any" });
        input.value = String(info.condition_means[j]);
        input.setAttribute("aria-label", `value of ${name} the decoder draws under`);
        input.addEventListener("change", () => {
          requestDecode(S.code ? { code: S.code } : { point: S.cursor });
        });
        row.append(`${name} `, input);
        pick.append(row);
      });
      pick.hidden = false;
    } else if (info.conditional) {
      const select = $("class");
      select.replaceChildren();
      for (let k = 0; k < info.n_classes; k++) {
        const option = document.createElement("option");
        option.value = String(k);
        option.textContent = info.classes ? info.classes[k] : String(k);
        select.append(option);
      }
      $("class-pick").hidden = false;
      select.addEventListener("change", () => {
        requestDecode(S.code ? { code: S.code } : { point: S.cursor });
      });
    }
    if (info.kind === "image") {
      $("draw-note").textContent = info.dark_background
        ? "Draw light on dark, as the data are; the drawing is cropped and centred "
          + "like MNIST before encoding. Uploads are resized and, if need be, inverted."
        : "Draw dark on light, as the data are. Uploads are resized and, if need be, "
          + "inverted.";
    }
    if (info.kind === "vector") {
      $("draw-title").textContent = "Encode a row";
      $("draw-image").hidden = true;
      $("draw-vector").hidden = false;
      $("values").placeholder = `${info.sample_shape[0]} numbers`;
    }
  }

  start();
})();

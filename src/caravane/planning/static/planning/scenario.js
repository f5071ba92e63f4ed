// Scenario page: poll the run's progress until it finishes, then draw the plan on an offline map
// (communes shaded by underservice index from our own geometry, bases, catchments and tours).
const L = window.L;

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function pollProgress(box) {
  const bar = box.querySelector("progress");
  const text = box.querySelector("span");
  const status = document.getElementById("plan-status");
  const tick = async () => {
    try {
      const state = await fetchJson(box.dataset.url);
      bar.value = state.progress;
      text.textContent = state.text || "";
      if (status) status.textContent = state.status_display;
      if (state.finished) {
        window.location.reload();
        return;
      }
    } catch (error) {
      text.textContent = String(error);
    }
    window.setTimeout(tick, 1500);
  };
  tick();
}

function shade(index) {
  // 0 (well served) pale to 100 (underserved) dark red.
  const t = Math.max(0, Math.min(1, (index ?? 0) / 100));
  return `rgb(${Math.round(255 - 80 * t)}, ${Math.round(245 - 215 * t)}, ${Math.round(235 - 205 * t)})`;
}

async function drawMap(container) {
  const map = L.map(container, { zoomSnap: 0.25, attributionControl: false });
  map.fitBounds([[20.7, -17.2], [35.95, -0.95]]);
  const [shapes, plan] = await Promise.all([
    fetchJson(container.dataset.shapesUrl), fetchJson(container.dataset.mapUrl)]);
  const communes = new Map();
  const layers = { base: [], catchment: [], tour: [], facility: [] };
  for (const feature of plan.features) {
    const layer = feature.properties.layer;
    if (layer === "commune") communes.set(feature.properties.code, feature.properties);
    else layers[layer].push(feature);
  }
  L.geoJSON(shapes, {
    style: (f) => ({ weight: 0.3, color: "#999", fillOpacity: 0.8,
      fillColor: shade(communes.get(f.properties.code)?.index) }),
    onEachFeature: (f, layer) => {
      const c = communes.get(f.properties.code);
      if (c) layer.bindTooltip(`${c.name}: ${c.index ?? "—"} (${c.care_km ?? "—"} km)`, { sticky: true });
    },
  }).addTo(map);
  L.geoJSON(layers.facility, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 2.5, weight: 1, color: "#2e7d32", fillOpacity: 0.8 })
      .bindTooltip(`${f.properties.name} (${f.properties.kind})`),
  }).addTo(map);
  L.geoJSON(layers.catchment, { style: { weight: 1, color: "#3465a4", opacity: 0.5 }, interactive: false }).addTo(map);
  L.geoJSON(layers.tour, { style: { weight: 2.5, color: "#204a87" },
    onEachFeature: (f, layer) => layer.bindTooltip(`#${f.properties.unit} ${f.properties.date}: ${f.properties.km} km`) }).addTo(map);
  const bases = L.geoJSON(layers.base, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, color: "#000", fillColor: "#f57900", fillOpacity: 1 })
      .bindTooltip(`#${f.properties.unit} ${f.properties.name}`),
  }).addTo(map);
  if (layers.base.length) map.fitBounds(bases.getBounds().pad(0.2));
  container.dataset.bases = String(layers.base.length);
}

const progress = document.getElementById("plan-progress");
if (progress) pollProgress(progress);
const container = document.getElementById("plan-map");
if (container && L) drawMap(container).catch((error) => { container.textContent = String(error); });

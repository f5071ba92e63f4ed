// Sites map: province outlines from our own geography (no tiles: field sites are offline),
// site markers coloured by kind (CSS classes), referral links as lines.
const L = window.L;
const container = document.getElementById("site-map");
const status = document.getElementById("map-status");
const MOROCCO = [[20.7, -17.2], [35.95, -0.95]];

function siteUrl(id) {
  return container.dataset.siteUrl.replace("00000000-0000-0000-0000-000000000000", id);
}

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function popup(site, kinds) {
  const box = document.createElement("div");
  const link = document.createElement("a");
  link.href = siteUrl(site.id);
  link.textContent = site.name;
  const kind = document.createElement("div");
  kind.textContent = kinds[site.kind] || site.kind;
  box.append(link, kind);
  return box;
}

async function draw() {
  const map = L.map(container, { preferCanvas: false, zoomSnap: 0.25, attributionControl: false });
  map.fitBounds(MOROCCO, { animate: false });
  const [outlines, data] = await Promise.all([
    fetchJson(container.dataset.outlinesUrl), fetchJson(container.dataset.sitesUrl)]);
  const language = data.language || "fr";
  L.geoJSON(outlines, {
    className: "province-outline",
    interactive: true,
    onEachFeature: (feature, layer) => {
      const props = feature.properties;
      layer.bindTooltip((language === "ar" && props.name_ar) || props.name_fr, { sticky: true });
    },
  }).addTo(map);
  L.layerGroup(data.links.map((link) => L.polyline(link, { className: "referral-link", interactive: false })))
    .addTo(map);
  // Health centres first, so the fewer hubs and units are drawn on top of them.
  const ordered = [...data.sites].sort((a, b) => (b.kind === "rural_health_centre") - (a.kind === "rural_health_centre"));
  const markers = ordered.map((site) => L.circleMarker([site.lat, site.lon], {
    radius: site.kind === "rural_health_centre" ? 5 : 8,
    className: `site-marker kind-${site.kind}${site.understaffed ? " understaffed" : ""}`,
  }).bindPopup(() => popup(site, data.kinds)));
  const group = L.featureGroup(markers).addTo(map);
  if (markers.length) map.fitBounds(group.getBounds().pad(0.1), { maxZoom: 9, animate: false });
  container.dataset.markers = String(markers.length);
  status.textContent = status.dataset.done || "";
  status.hidden = true;
}

draw().catch((error) => {
  status.textContent = status.dataset.failed || String(error);
  status.classList.add("error");
});

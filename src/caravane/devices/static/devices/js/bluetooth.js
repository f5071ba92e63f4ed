// Web Bluetooth on the tablet's Chromium: pair a health device, subscribe to its measurement characteristics and
// post each notification's raw bytes to the server, which decodes and validates them (caravane.devices.gatt).
// The reading then comes back to the visit page live, like one sent by a gateway.

const MEASUREMENTS = [
  // [service, characteristic, its 16-bit UUID as the server names it]
  ["blood_pressure", "blood_pressure_measurement", "0x2A35"],
  ["health_thermometer", "temperature_measurement", "0x2A1C"],
  ["pulse_oximeter", "plx_spot_check_measurement", "0x2A5E"],
  ["pulse_oximeter", "plx_continuous_measurement", "0x2A5F"],
  ["weight_scale", "weight_measurement", "0x2A9D"],
  ["glucose", "glucose_measurement", "0x2A18"],
];

function base64(view) {
  let text = "";
  for (let i = 0; i < view.byteLength; i += 1) text += String.fromCharCode(view.getUint8(i));
  return btoa(text);
}

// Posts one notification; the message id makes a retry harmless (the server stores a message once).
async function post(panel, characteristic, value, status) {
  const device = panel.querySelector("#use-device")?.value;
  const token = panel.querySelector("[name=csrfmiddlewaretoken]")?.value ?? "";
  const body = {
    message_id: crypto.randomUUID(), characteristic, gatt: base64(value),
    measured_at: new Date().toISOString(), encounter: panel.dataset.encounter,
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const response = await fetch(`/api/devices/${device}/readings`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token }, body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      status.textContent = response.ok ? status.dataset.sent : (answer.detail ?? status.dataset.failed);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
  }
  status.textContent = status.dataset.failed;
}

async function pair(panel, status) {
  const services = [...new Set(MEASUREMENTS.map(([service]) => service))];
  const device = await navigator.bluetooth.requestDevice({ filters: services.map((service) => ({ services: [service] })) });
  const server = await device.gatt.connect();
  let subscribed = 0;
  for (const [service, name, short] of MEASUREMENTS) {
    try {
      const characteristic = await (await server.getPrimaryService(service)).getCharacteristic(name);
      characteristic.addEventListener("characteristicvaluechanged", (event) => post(panel, short, event.target.value, status));
      await characteristic.startNotifications();
      subscribed += 1;
    } catch {
      // this device does not offer that measurement
    }
  }
  status.textContent = subscribed ? `${status.dataset.paired} ${device.name ?? ""}` : status.dataset.failed;
}

const panel = document.getElementById("device-readings");
const button = panel?.querySelector("[data-bluetooth-pair]");
if (button && navigator.bluetooth) {
  const status = panel.querySelector("[data-bluetooth-status]");
  button.hidden = false;
  button.addEventListener("click", () => pair(panel, status).catch((error) => {
    status.textContent = `${status.dataset.failed} (${error.message})`;
  }));
}

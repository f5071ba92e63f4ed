// The call room: media from this device, a mesh of RTCPeerConnections to the other participants, signalling over
// the room's WebSocket (offers, answers and ICE candidates addressed to an opaque peer id). Made for weak links:
// low resolution, the video sender capped, Opus at a speech bitrate. The socket comes back by itself after a cut
// (with a growing delay); beside the video, the act's conversation, snapshots, and the specialist's report.

import {Ladder} from "./quality.js";

const root = document.getElementById("room");
const text = JSON.parse(document.getElementById("room-messages").textContent);
const statusLine = document.getElementById("room-status");
const alertBox = document.getElementById("room-alert");
const remotes = document.getElementById("remotes");
const selfVideo = document.getElementById("self-video");
const muteButton = document.getElementById("mute");
const cameraChoice = document.getElementById("camera-choice");
const hangupButton = document.getElementById("hangup");
const rejoinButton = document.getElementById("rejoin");
const notice = document.getElementById("room-notice");
const observer = root.dataset.role === "observer";
const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;

// 256 kbit/s for everything: video gets most of it, Opus speech the rest, and the packets' headers (about 25 kbit/s
// for the sound's 50 packets a second) some room, so that the sound does not queue behind the video.
const VIDEO_MAX_BITRATE = 160_000;
const AUDIO_MAX_BITRATE = 24_000;
const VIDEO_CONSTRAINTS = {width: {ideal: 320}, height: {ideal: 240}, frameRate: {ideal: 15, max: 15}};
const AUDIO_CONSTRAINTS = {echoCancellation: true, noiseSuppression: true, autoGainControl: true};
const REFUSED = 4403;
const NOT_FOUND = 4404;
const SAMPLE_MS = 3000;
// After a cut the socket is opened again after 1 s, 2 s, 4 s… up to 30 s, with some jitter so that the pages of
// a site whose link came back do not all knock at once.
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
let retries = 0;
let retryTimer = null;
let leaving = false; // hung up on purpose: no reconnection

let socket = null;
let me = null;
let iceServers = [];
let localStream = null;
const peers = new Map(); // peer id -> {pc, name, role, figure, offerer, lost, counters}
const ladder = new Ladder();
let mode = "video";
let cameraTrack = null; // kept while the call runs on audio only, to step back up
const modeNotice = document.getElementById("room-mode");

// The call's state, shown in words and kept on the page (data-state) for the tests and the styles.
function show(state) {
  root.dataset.state = state;
  statusLine.textContent = text[state] || "";
}

function warn(message) {
  alertBox.textContent = message;
  alertBox.hidden = !message;
}

function mediaProblem(error) {
  if (!navigator.mediaDevices) return text.insecure;
  if (error?.name === "NotAllowedError" || error?.name === "SecurityError") return text.refused;
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") return text.missing;
  return text.failed;
}

async function startMedia(deviceId) {
  const video = deviceId ? {...VIDEO_CONSTRAINTS, deviceId: {exact: deviceId}} : VIDEO_CONSTRAINTS;
  try {
    return await navigator.mediaDevices.getUserMedia({audio: AUDIO_CONSTRAINTS, video});
  } catch (error) {
    // Without a camera the call still carries the voice.
    if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") {
      try {
        const audioOnly = await navigator.mediaDevices.getUserMedia({audio: AUDIO_CONSTRAINTS});
        warn(text.missing);
        return audioOnly;
      } catch (second) {
        warn(mediaProblem(second));
        return null;
      }
    }
    warn(mediaProblem(error));
    return null;
  }
}

async function listCameras() {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = localStream?.getVideoTracks()[0]?.getSettings().deviceId;
  cameraChoice.replaceChildren(...devices.filter((d) => d.kind === "videoinput").map((d, i) => {
    const option = new Option(d.label || `${text.camera} ${i + 1}`, d.deviceId);
    option.selected = d.deviceId === current;
    return option;
  }));
  cameraChoice.disabled = cameraChoice.options.length < 2;
  document.getElementById("camera-control").hidden = !cameraChoice.options.length;
}

async function switchCamera() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({video: {...VIDEO_CONSTRAINTS,
                                                                deviceId: {exact: cameraChoice.value}}});
  } catch (error) {
    warn(mediaProblem(error));
    return;
  }
  const track = stream.getVideoTracks()[0];
  const old = localStream?.getVideoTracks()[0];
  cameraTrack = track;
  for (const {pc} of peers.values()) {
    for (const transceiver of pc.getTransceivers()) {
      // On sound only the new camera waits until the link allows video again.
      if (transceiver.receiver.track?.kind === "video" && mode === "video") await transceiver.sender.replaceTrack(track);
    }
  }
  if (old) { localStream.removeTrack(old); old.stop(); }
  localStream?.addTrack(track);
  selfVideo.srcObject = localStream;
}

async function capSenders(pc) {
  for (const sender of pc.getSenders()) {
    if (!sender.track) continue;
    const parameters = sender.getParameters();
    if (!parameters.encodings?.length) parameters.encodings = [{}];
    parameters.encodings[0].maxBitrate = sender.track.kind === "video" ? VIDEO_MAX_BITRATE : AUDIO_MAX_BITRATE;
    if (sender.track.kind === "video") parameters.degradationPreference = "maintain-framerate";
    try { await sender.setParameters(parameters); } catch { /* an older browser: the constraints still hold */ }
  }
}

function preferOpus(pc) {
  const capabilities = RTCRtpSender.getCapabilities?.("audio");
  if (!capabilities) return;
  const opus = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === "audio/opus");
  for (const transceiver of pc.getTransceivers()) {
    if (transceiver.receiver.track?.kind === "audio" && opus.length && transceiver.setCodecPreferences) {
      transceiver.setCodecPreferences([...opus, ...capabilities.codecs.filter((c) => !opus.includes(c))]);
    }
  }
}

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function say(element, message, isError = false) {
  element.textContent = message;
  element.hidden = !message;
  element.classList.toggle("error", isError);
}

// A POST of the room's own forms (message, snapshot, recording, report): its JSON answer, or null when the
// server could not be reached (the page says so; nothing was lost on the server).
async function post(url, body, where = notice) {
  try {
    const response = await fetch(url, {method: "POST", body, credentials: "same-origin",
                                       headers: {"X-CSRFToken": csrf, Accept: "application/json"}});
    const answer = await response.json();
    say(where, answer.ok ? answer.message : Object.values(answer.errors || {}).flat().join(" "), !answer.ok);
    return answer;
  } catch {
    say(where, text.failedSend, true);
    return null;
  }
}

// The conversation, and what the report will say of the call, re-read from the server (once for a burst).
let refreshing = null;
function refreshConversation() {
  refreshing ??= new Promise((resolve) => setTimeout(resolve, 300)).then(async () => {
    refreshing = null;
    try {
      const response = await fetch(root.dataset.conversationUrl, {credentials: "same-origin"});
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["conversation-body", "report-prefilled"]) {
        const part = fresh.getElementById(id);
        if (part) document.getElementById(id)?.replaceChildren(...part.childNodes);
      }
    } catch { /* the next event, or the next visit, brings it */ }
  });
  return refreshing;
}

function figureFor(id, name, role) {
  const figure = document.createElement("figure");
  figure.className = "remote";
  figure.dataset.peer = id;
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  const caption = document.createElement("figcaption");
  caption.textContent = role === "observer" ? `${name} · ${text.observer}` : name;
  figure.append(video, caption);
  remotes.append(figure);
  return figure;
}

// The other side stepped down (or back up): its picture says so, rather than going black unexplained.
function showRemoteMode(figure, step) {
  if (!figure) return;
  figure.dataset.mode = step;
  figure.querySelector(".remote-mode")?.remove();
  if (step === "video") return;
  const label = document.createElement("p");
  label.className = "remote-mode";
  label.textContent = text[`remote_${step}`];
  figure.append(label);
}

function connectionTo(id, name = "", role = "") {
  let peer = peers.get(id);
  if (peer) return peer;
  const pc = new RTCPeerConnection({iceServers});
  peer = {pc, name, role, figure: figureFor(id, name, role)};
  peers.set(id, peer);
  if (localStream) {
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
  } else {
    pc.addTransceiver("audio", {direction: "recvonly"});
    pc.addTransceiver("video", {direction: "recvonly"});
  }
  preferOpus(pc);
  pc.onicecandidate = ({candidate}) => send({type: "ice", to: id, candidate: candidate ? candidate.toJSON() : null});
  pc.ontrack = ({streams, track}) => {
    const video = peer.figure.querySelector("video");
    video.srcObject = streams[0] || new MediaStream([track]);
    if (track.kind === "video" && peer.role !== "observer") {
      // No picture comes any more (the other side went to sound only, even before a reconnection): say so.
      track.onmute = () => { if (peer.figure.dataset.mode !== "conversation") showRemoteMode(peer.figure, "audio"); };
      track.onunmute = () => showRemoteMode(peer.figure, "video");
    }
  };
  pc.onconnectionstatechange = () => {
    const state = pc.connectionState;
    if (state === "connected") {
      show("connected");
      capSenders(pc);
      // A connection made again (after a cut) starts in the mode the call had stepped down to.
      if (mode !== "video") applyMode(mode);
      if (peer.lost) { peer.lost = false; report("restored"); }
    } else if ((state === "disconnected" || state === "failed") && !peer.lost) {
      peer.lost = true;
      report("lost");
    }
    // A failed path is tried again by the side that made the offer (an ICE restart).
    if (state === "failed" && peer.offerer) offer(id, {iceRestart: true});
  };
  return peer;
}

function drop(id) {
  const peer = peers.get(id);
  if (!peer) return;
  peer.pc.close();
  peer.figure.remove();
  peers.delete(id);
  if (!peers.size) show("waiting");
}

async function offer(id, options = {}) {
  const {pc} = peers.get(id) || {};
  if (!pc) return;
  await pc.setLocalDescription(await pc.createOffer(options));
  send({type: "offer", to: id, sdp: pc.localDescription.sdp});
}

// Tell the act what happened to the call, with the figures: it is recorded as a technical incident.
function report(event, figures = {}) {
  send({type: "incident", event, ...figures});
}

async function applyMode(next) {
  mode = next;
  root.dataset.mode = next;
  const video = next === "video";
  const audio = next !== "conversation";
  cameraTrack = cameraTrack || localStream?.getVideoTracks()[0] || null;
  for (const {pc} of peers.values()) {
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track?.kind;
      if (kind === "video") await transceiver.sender.replaceTrack(video ? cameraTrack : null);
      if (kind === "audio") await transceiver.sender.replaceTrack(audio ? localStream?.getAudioTracks()[0] || null : null);
    }
  }
  modeNotice.textContent = text[`mode_${next}`] || "";
  if (next === "conversation" && root.dataset.conversation) {
    const link = document.createElement("a");
    link.href = root.dataset.conversation;
    link.target = "_blank";
    link.textContent = text.openConversation;
    modeNotice.append(" ", link);
  }
  modeNotice.hidden = video;
}

// Every few seconds: the worst round-trip time, loss and available bitrate over the connections.
async function sample() {
  const worst = {rttMs: null, lossRatio: 0, outKbps: null};
  let measured = false;
  for (const peer of peers.values()) {
    if (peer.pc.connectionState !== "connected") continue;
    let lost = 0;
    let received = 0;
    const report = await peer.pc.getStats();
    // The pair in use: after a path change an earlier nominated pair stays in the report with its last figures.
    let selected = null;
    report.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) selected = r.selectedCandidatePairId;
    });
    report.forEach((r) => {
      if (r.type === "candidate-pair" && (selected ? r.id === selected : r.nominated && r.state === "succeeded")) {
        if (r.currentRoundTripTime !== undefined) worst.rttMs = Math.max(worst.rttMs ?? 0, r.currentRoundTripTime * 1000);
        if (r.availableOutgoingBitrate !== undefined) {
          worst.outKbps = Math.min(worst.outKbps ?? Infinity, r.availableOutgoingBitrate / 1000);
        }
      }
      if (r.type === "inbound-rtp") { lost += r.packetsLost || 0; received += r.packetsReceived || 0; }
    });
    const before = peer.counters || {lost, received};
    peer.counters = {lost, received};
    const newLost = Math.max(0, lost - before.lost);
    const newReceived = Math.max(0, received - before.received);
    if (newLost + newReceived) worst.lossRatio = Math.max(worst.lossRatio, newLost / (newLost + newReceived));
    measured = true;
  }
  if (!measured) return;
  const next = ladder.feed(worst);
  if (!next) return;
  await applyMode(next);
  report(next, {rtt_ms: worst.rttMs === null ? null : Math.round(worst.rttMs),
                loss_pct: Math.round(worst.lossRatio * 1000) / 10,
                kbps: worst.outKbps === null ? null : Math.round(worst.outKbps)});
}

async function onSignal(message) {
  if (message.event) {
    // Something was added to the act from the call (a message, a snapshot): every page re-reads the conversation.
    if (message.event.startsWith("rooms.")) refreshConversation();
    const {peer, step} = message.payload || {};
    if (["video", "audio", "conversation"].includes(step)) showRemoteMode(peers.get(peer)?.figure, step);
    return;
  }
  // Somebody came or left: who took part in the call, as the report will say, changed.
  if (["peer", "leave", "hangup"].includes(message.type)) refreshConversation();
  switch (message.type) {
    case "welcome":
      me = message.peer;
      iceServers = message.iceServers;
      retries = 0;
      say(notice, "");
      show("waiting");
      break;
    case "peer": {
      const peer = connectionTo(message.peer, message.name, message.role);
      peer.offerer = message.offer;
      if (message.offer) await offer(message.peer);
      break;
    }
    case "offer": {
      const {pc} = connectionTo(message.from);
      await pc.setRemoteDescription({type: "offer", sdp: message.sdp});
      await pc.setLocalDescription(await pc.createAnswer());
      send({type: "answer", to: message.from, sdp: pc.localDescription.sdp});
      break;
    }
    case "answer":
      await peers.get(message.from)?.pc.setRemoteDescription({type: "answer", sdp: message.sdp});
      break;
    case "ice":
      if (message.candidate) await peers.get(message.from)?.pc.addIceCandidate(message.candidate);
      break;
    case "leave":
    case "hangup":
      drop(message.peer);
      break;
    default:
      break;
  }
}

function openSocket() {
  clearTimeout(retryTimer);
  leaving = false;
  hangupButton.hidden = false;
  rejoinButton.hidden = true;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const opened = new WebSocket(`${scheme}://${location.host}${root.dataset.socket}`);
  socket = opened;
  let queue = Promise.resolve();
  // Signals are handled one at a time, in order: an answer never overtakes its offer.
  opened.onmessage = (event) => { queue = queue.then(() => onSignal(JSON.parse(event.data))).catch(console.warn); };
  opened.onclose = (event) => {
    if (socket !== opened) return;
    for (const id of [...peers.keys()]) drop(id);
    if (event.code === REFUSED || event.code === NOT_FOUND) {
      // Not (or no longer) a participant, or the act's call closed (reported): the act's page remains.
      warn(text.refusedRoom);
      show("refused");
      end();
      return;
    }
    if (leaving) return;
    // A cut (the link, the server restarting): the call comes back by itself; "call again" does it now.
    show("lost");
    rejoinButton.hidden = false;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** retries) * (0.8 + 0.4 * Math.random());
    retries += 1;
    retryTimer = setTimeout(openSocket, delay);
  };
}

function end() {
  clearTimeout(retryTimer);
  for (const id of [...peers.keys()]) drop(id);
  hangupButton.hidden = true;
  rejoinButton.hidden = false;
}

function hangUp() {
  leaving = true;
  send({type: "hangup"});
  end();
  show("ended");
  socket?.close();
}

// A still of the other side's video (the first that shows a picture), kept as a photo of the act.
async function takeSnapshot() {
  const video = [...remotes.querySelectorAll("video")].find((v) => v.videoWidth > 0);
  if (!video) { say(notice, text.noVideo, true); return; }
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  const body = new FormData();
  body.append("photo", blob, `snapshot-${new Date().toISOString().replace(/[:.]/g, "-")}.jpg`);
  await post(root.dataset.snapshotUrl, body);
}

// Recording (only where the deployment allows it and the patient consented): in this browser, of what it
// receives and this side's voice, uploaded to the act when stopped; nothing of it goes through the server before.
let recorder = null;
function toggleRecording(button) {
  if (recorder) { recorder.stop(); return; }
  const tracks = [...peers.values()].flatMap(({pc}) => pc.getReceivers().map((r) => r.track))
    .filter((t) => t && t.readyState === "live");
  const stream = new MediaStream([...tracks, ...(localStream?.getAudioTracks() || [])]);
  if (!stream.getTracks().length) { say(notice, text.noVideo, true); return; }
  const chunks = [];
  recorder = new MediaRecorder(stream, {mimeType: "video/webm"});
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  recorder.onstop = async () => {
    recorder = null;
    button.setAttribute("aria-pressed", "false");
    const body = new FormData();
    body.append("recording", new Blob(chunks, {type: "video/webm"}), "call.webm");
    await post(root.dataset.recordingUrl, body);
  };
  recorder.start(1000);
  button.setAttribute("aria-pressed", "true");
  say(notice, text.recording);
}

document.getElementById("chat-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const answer = await post(root.dataset.messageUrl, new FormData(form));
  if (answer?.ok) { form.reset(); refreshConversation(); }
});

// The report is saved or signed without leaving the call; once signed the act's page follows (the call ends).
const reportForm = document.getElementById("report-form");
reportForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = new FormData(reportForm);
  if (event.submitter?.name) body.append(event.submitter.name, "1");
  const answer = await post(reportForm.action, body, document.getElementById("report-notice"));
  if (answer?.signed) {
    hangUp();
    location.assign(answer.url);
  }
});

muteButton?.addEventListener("click", () => {
  const muted = muteButton.getAttribute("aria-pressed") !== "true";
  for (const track of localStream?.getAudioTracks() || []) track.enabled = !muted;
  muteButton.setAttribute("aria-pressed", String(muted));
  muteButton.textContent = muted ? text.unmute : text.mute;
});
cameraChoice?.addEventListener("change", switchCamera);
hangupButton.addEventListener("click", hangUp);
rejoinButton.addEventListener("click", () => { retries = 0; openSocket(); });
document.getElementById("snapshot")?.addEventListener("click", takeSnapshot);
document.getElementById("record")?.addEventListener("click", (event) => toggleRecording(event.currentTarget));

// What the tests read: the connections by peer id, the call's mode, the socket.
window.caravaneRoom = {peers, me: () => me, mode: () => mode, socket: () => socket};
setInterval(() => sample().catch(console.warn), SAMPLE_MS);

// An observer receives only: no camera, no microphone asked for.
if (!observer) {
  localStream = navigator.mediaDevices ? await startMedia() : (warn(text.insecure), null);
  if (localStream?.getVideoTracks().length) {
    selfVideo.srcObject = localStream;
    selfVideo.hidden = false;
  }
  await listCameras();
}
openSocket();

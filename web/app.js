// The demo chat of cmd/roomcast: rooms, private messages by socket id, a
// live member list, and a namespace switch. The events it uses are described
// in cmd/roomcast/chat.go.
"use strict";

const ACK_TIMEOUT = 5000;

const $ = (id) => document.getElementById(id);
const ui = {
  connectForm: $("connect-form"), name: $("name"), nsp: $("nsp"), status: $("status"),
  joinForm: $("join-form"), room: $("room"), rooms: $("rooms"),
  membersTitle: $("members-title"), members: $("members"),
  log: $("log"),
  postForm: $("post-form"), postLabel: $("post-label"), text: $("text"),
  pmForm: $("pm-form"), pmTo: $("pm-to"), pmText: $("pm-text"),
};

let socket = null;
const joined = new Set(); // rooms joined in the current namespace
const members = new Map(); // room -> [{id, name}]
let current = null; // the room shown and posted to

// ------------------------------------------------------------ rendering

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Every text shown comes from other users: it is set as text, never as HTML.
function log(kind, meta, text, at = Date.now()) {
  const item = el("li", { className: `entry ${kind}` },
    el("time", { textContent: clock(at) }),
    el("span", { className: "meta", textContent: meta }),
    el("span", { className: "text", textContent: text }));
  ui.log.append(item);
  item.scrollIntoView({ block: "end" });
}

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function renderRooms() {
  ui.rooms.replaceChildren(...[...joined].sort().map((room) => {
    const select = el("button", {
      type: "button", className: "room", textContent: `#${room}`,
      onclick: () => { current = room; render(); },
    });
    select.setAttribute("aria-pressed", String(room === current));
    const leave = el("button", {
      type: "button", className: "small", textContent: "Leave", title: `Leave #${room}`,
      onclick: () => leaveRoom(room),
    });
    return el("li", {}, select, leave);
  }));
}

function renderMembers() {
  const list = (current && members.get(current)) || [];
  ui.membersTitle.textContent = current ? `In #${current} (${list.length})` : "Members";
  ui.members.replaceChildren(...list.map((m) => {
    const me = socket && m.id === socket.id;
    const item = el("li", { className: me ? "me" : "" },
      el("span", { className: "member", textContent: me ? `${m.name} (you)` : m.name, title: m.id }));
    if (!me) {
      item.append(el("button", {
        type: "button", className: "small", textContent: "Message", title: `Private message to ${m.id}`,
        onclick: () => { ui.pmTo.value = m.id; ui.pmText.focus(); },
      }));
    }
    return item;
  }));
}

function render() {
  renderRooms();
  renderMembers();
  ui.postLabel.textContent = current ? `Message #${current}` : "Join a room to post";
  ui.text.disabled = !current;
}

// ------------------------------------------------------------ connection

function connect(name, nsp) {
  if (socket) {
    socket.disconnect();
    joined.clear();
    members.clear();
    current = null;
    render();
  }
  setStatus("connecting", `Connecting to ${nsp}…`);
  // forceNew: one connection per socket, so that a switch starts afresh.
  socket = io(nsp, { auth: { name }, forceNew: true });
  const s = socket;

  s.on("connect", () => {
    setStatus("online", `${name} on namespace ${nsp} · socket id ${s.id}`);
    log("system", nsp, `Connected as ${name}. Your socket id is ${s.id}.`);
    // After a reconnection the server has forgotten our rooms: join again.
    for (const room of joined) emit("join", room).catch(() => {});
    render();
  });
  s.on("connect_error", (err) => setStatus("offline", `Cannot connect: ${err.message}`));
  s.on("disconnect", (reason) => {
    setStatus("offline", `Disconnected from ${nsp} (${reason})`);
    if (s === socket) log("system", nsp, `Disconnected: ${reason}.`);
  });

  s.on("presence", ({ room, members: list, joined: who, left }) => {
    members.set(room, list);
    if (who && who.id !== s.id) log("system", `#${room}`, `${who.name} joined.`);
    if (left && left.id !== s.id) log("system", `#${room}`, `${left.name} left.`);
    if (room === current) renderMembers();
  });
  s.on("message", (m) => log("room", `#${m.room} · ${m.from.name}`, m.text, m.at));
  s.on("private", (m) => {
    log("private", `private from ${m.from.name}`, m.text, m.at);
    ui.pmTo.value ||= m.from.id; // make answering easy
  });
}

// emit sends an event and resolves when the server acknowledged it; a
// refusal or a timeout is shown and rejects.
async function emit(event, ...args) {
  if (!socket?.connected) {
    log("error", event, "Not connected.");
    throw new Error("not connected");
  }
  let res;
  try {
    res = await socket.timeout(ACK_TIMEOUT).emitWithAck(event, ...args);
  } catch {
    res = { ok: false, error: "no answer from the server" };
  }
  if (!res.ok) {
    log("error", event, res.error);
    throw new Error(res.error);
  }
}

async function joinRoom(room) {
  await emit("join", room);
  joined.add(room);
  current = room;
  render();
}

async function leaveRoom(room) {
  await emit("leave", room);
  joined.delete(room);
  members.delete(room);
  if (current === room) current = [...joined].sort()[0] ?? null;
  render();
}

// ------------------------------------------------------------ forms

function onSubmit(form, handler) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    handler().catch(() => {}); // errors are already in the log
  });
}

onSubmit(ui.connectForm, async () => {
  const name = ui.name.value.trim();
  if (!name) return;
  localStorage.setItem("roomcast-name", name);
  connect(name, ui.nsp.value);
});

onSubmit(ui.joinForm, async () => {
  await joinRoom(ui.room.value.trim());
  ui.room.value = "";
});

onSubmit(ui.postForm, async () => {
  if (!current) return;
  await emit("post", current, ui.text.value);
  ui.text.value = "";
});

onSubmit(ui.pmForm, async () => {
  const to = ui.pmTo.value.trim();
  const text = ui.pmText.value;
  await emit("private", to, text);
  log("private sent", `private to ${nameOf(to)}`, text.trim());
  ui.pmText.value = "";
});

function nameOf(id) {
  for (const list of members.values()) {
    const m = list.find((x) => x.id === id);
    if (m) return m.name;
  }
  return id;
}

ui.name.value = localStorage.getItem("roomcast-name") ?? "";
render();

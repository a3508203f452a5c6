// giaitrinh web chat: a thin client of /api/web/* (no framework, no external requests).
// Message text is always set with textContent, never innerHTML.
(function () {
  "use strict";
  var LIMIT = 2000;
  var KEY = "giaitrinh.session_id";
  var list = document.getElementById("messages");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var form = document.getElementById("composer");
  var typing = document.getElementById("typing");
  var status = document.getElementById("status");
  var counter = document.getElementById("counter");
  var shown = {};      // message ids already on screen
  var lastId = 0;
  var sessionId = null;
  var inFlight = 0;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var s = "";
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  // Links in bot text become <a> elements built with textContent (no HTML parsing).
  function appendText(el, text) {
    var re = /https?:\/\/[^\s<>"]+/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = m[0]; a.textContent = m[0]; a.target = "_blank"; a.rel = "noopener noreferrer";
      el.appendChild(a);
      last = m.index + m[0].length;
    }
    el.appendChild(document.createTextNode(text.slice(last)));
  }

  function render(msg) {
    if (shown[msg.id]) return;
    shown[msg.id] = true;
    lastId = Math.max(lastId, msg.id);
    // Older buttons stay usable but look secondary.
    Array.prototype.forEach.call(list.querySelectorAll(".msg-out"), function (el) { el.classList.add("old"); });
    var li = document.createElement("li");
    li.className = "msg " + (msg.direction === "in" ? "msg-in" : "msg-out");
    li.setAttribute("data-id", String(msg.id));
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    appendText(bubble, msg.text || "");
    li.appendChild(bubble);
    if (msg.buttons && msg.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      msg.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "quick-reply"; btn.textContent = b.title;
        btn.addEventListener("click", function () { submit(b.title, b.payload); });
        row.appendChild(btn);
      });
      li.appendChild(row);
    }
    list.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function notice(text) {
    var li = document.createElement("li");
    li.className = "notice";
    li.textContent = text;
    list.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function setStatus(text) {
    status.hidden = !text;
    status.textContent = text || "";
  }

  function refreshControls() {
    var length = input.value.trim().length;
    send.disabled = length === 0 || length > LIMIT;
    counter.hidden = input.value.length < LIMIT * 0.8;
    counter.textContent = input.value.length + "/" + LIMIT + " ký tự";
    counter.classList.toggle("over", input.value.length > LIMIT);
  }

  function newSession() {
    return api("POST", "/api/web/session", {}).then(function (r) {
      if (!r.ok) throw new Error("session");
      sessionId = r.data.session_id;
      localStorage.setItem(KEY, sessionId);
      shown = {}; lastId = 0; list.textContent = "";
    });
  }

  function poll() {
    if (!sessionId) return Promise.resolve();
    return api("GET", "/api/web/messages?session_id=" + encodeURIComponent(sessionId) + "&after=" + lastId)
      .then(function (r) {
        if (r.status === 404) return newSession();
        if (!r.ok) throw new Error("poll");
        setStatus("");
        r.data.messages.forEach(render);
      })
      .catch(function () { setStatus("Mất kết nối, đang thử lại…"); });
  }

  function submit(text, payload) {
    var body = { session_id: sessionId, client_message_id: uuid(), text: text };
    if (payload) body.payload = payload;
    inFlight++;
    typing.hidden = false;
    return api("POST", "/api/web/messages", body)
      .then(function (r) {
        if (!r.ok) {
          var err = (r.data && r.data.error) || {};
          notice(err.message || "Không gửi được tin nhắn, vui lòng thử lại.");
          if (!payload) { input.value = text; refreshControls(); }
          return;
        }
        setStatus("");
        render(r.data.message);
        r.data.replies.forEach(render);
      })
      .catch(function () {
        setStatus("Mất kết nối, đang thử lại…");
        if (!payload) { input.value = text; refreshControls(); }
      })
      .then(function () {
        inFlight--;
        typing.hidden = inFlight === 0;
        return poll();
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || text.length > LIMIT) return;
    input.value = "";
    refreshControls();
    submit(text, null);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  input.addEventListener("input", refreshControls);

  sessionId = localStorage.getItem(KEY);
  (sessionId ? poll() : newSession()).then(function () {
    setInterval(poll, 2000);
  });
  refreshControls();
})();

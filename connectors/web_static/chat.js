// giaitrinh web chat: a thin client of /api/web/* (no framework, no external requests).
// Message text is only ever set with textContent / text nodes, never innerHTML.
(function () {
  "use strict";
  var LIMIT = 2000;            // the server's limit (settings.web_max_chars), as it tells us
  var POLL_MS = 2000;
  var KEY = "giaitrinh.session_id";
  var OFFLINE = "Mất kết nối, đang thử lại…";
  var $ = function (id) { return document.getElementById(id); };
  var chat = $("chat"), list = $("messages"), input = $("input"), send = $("send");
  var form = $("composer"), typing = $("typing"), status = $("status");
  var counter = $("counter"), hint = $("hint"), tooLong = $("too-long");

  var sessionId = null;
  var creating = null;         // the in-flight POST /api/web/session, shared by all callers
  var shown = {};              // ids of messages on screen (dedupe between poll and send)
  var lastId = 0;
  var polling = false, pollAgain = false;
  var inFlight = 0;
  var queue = Promise.resolve(); // sends go one at a time, in the order the user made them
  // A send that failed on the network may still have reached the server. Re-sending the same
  // text/button reuses its client_message_id, so the server recognises it as a duplicate.
  var retry = { key: null, id: null };

  // localStorage can throw (disabled storage, some private modes): then the session lasts the page.
  function load() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  function save(v) { try { localStorage.setItem(KEY, v); } catch (e) { /* page-only session */ } }

  // crypto.randomUUID exists only in secure contexts (https, localhost); plain http on an
  // intranet address needs the getRandomValues fallback.
  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var b = new Uint8Array(16), i;
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // Resolves {ok, status, data} for any HTTP answer; rejects only when the network fails or
  // the request times out (a hung connection must not stop polling forever).
  function api(method, path, body, timeoutMs) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, timeoutMs || 15000) : null;
    return fetch(path, {
      method: method, cache: "no-store", credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: ctrl ? ctrl.signal : undefined,
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        clearTimeout(timer);
        return { ok: resp.ok, status: resp.status, data: data || {} };
      });
    }, function (err) { clearTimeout(timer); throw err; });
  }

  function errorOf(r) { return (r.data && r.data.error) || {}; }

  // A refused request (e.g. 429 rate_limited) carries the server's Vietnamese message, to be
  // shown as is instead of "offline".
  function refused(r, what) {
    var e = new Error(what + " " + r.status);
    e.userMessage = errorOf(r).message || "";
    return e;
  }
  function failureText(e) { return (e && e.userMessage) || OFFLINE; }

  // Characters as the server counts them (code points, after trimming).
  function charCount(s) { return Array.from(s.trim()).length; }

  // Vietnamese digit grouping (5.000), the same as the server's messages.
  function thousands(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }

  // Said before sending, in the server's words (connectors/web.py too_long_text): nothing is cut.
  function tooLongText(n) {
    return "Tin nhắn dài " + thousands(n) + " ký tự, quá giới hạn " + thousands(LIMIT) +
      " ký tự của một tin nhắn. Anh/chị vui lòng chia thành nhiều tin nhắn ngắn hơn; nếu là " +
      "nội dung phản ánh hoặc yêu cầu giải trình, anh/chị gõ “gửi phản ánh” hoặc " +
      "“yêu cầu giải trình” để gửi thành hồ sơ.";
  }

  // The server says its limit with the session and the history.
  function learnLimit(data) {
    if (data && typeof data.max_chars === "number" && data.max_chars > 0 && data.max_chars !== LIMIT) {
      LIMIT = data.max_chars;
      refreshControls();
    }
  }

  // http(s) links become <a> elements built with textContent (no HTML parsing at all).
  function appendText(el, text) {
    var re = /https?:\/\/[^\s<>"']+/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, ""); // trailing punctuation is not part of the link
      el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = url; a.textContent = url; a.target = "_blank"; a.rel = "noopener noreferrer";
      el.appendChild(a);
      last = m.index + url.length;
      re.lastIndex = last;
    }
    el.appendChild(document.createTextNode(text.slice(last)));
  }

  function buildMessage(msg) {
    var li = document.createElement("li");
    li.className = "msg " + (msg.direction === "in" ? "msg-in" : "msg-out");
    li.setAttribute("data-id", String(msg.id));
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    var when = new Date(msg.created_at);
    if (!isNaN(when)) bubble.title = when.toLocaleString("vi-VN"); // time on hover, not in the text
    appendText(bubble, msg.text || "");
    li.appendChild(bubble);
    if (msg.direction !== "in" && msg.buttons && msg.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      msg.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "quick-reply"; btn.textContent = b.title;
        btn.addEventListener("click", function () {
          btn.disabled = true; // no double sends from a double tap
          enqueue(b.title, b.payload).then(function () { btn.disabled = false; });
        });
        row.appendChild(btn);
      });
      li.appendChild(row);
    }
    return li;
  }

  // Adds messages not yet shown, in id order even if a poll and a send answer out of order.
  function render(messages) {
    var nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
    var added = false;
    (messages || []).forEach(function (msg) {
      if (typeof msg.id !== "number" || shown[msg.id]) return;
      shown[msg.id] = true;
      lastId = Math.max(lastId, msg.id);
      var li = buildMessage(msg), ref = null, node;
      for (node = list.lastElementChild; node; node = node.previousElementSibling) {
        if (!node.classList.contains("msg")) continue;
        if (Number(node.getAttribute("data-id")) < msg.id) break;
        ref = node;
      }
      list.insertBefore(li, ref);
      added = true;
    });
    if (!added) return;
    // Buttons are current only on bot messages after the citizen's last message.
    var all = list.querySelectorAll(".msg"), seenIn = false, i;
    for (i = all.length - 1; i >= 0; i--) {
      if (all[i].classList.contains("msg-in")) seenIn = true;
      else all[i].classList.toggle("old", seenIn);
    }
    hint.hidden = seenIn; // until the citizen's first message (the greeting alone keeps it)
    if (nearBottom || inFlight) chat.scrollTop = chat.scrollHeight;
  }

  function notice(text) {
    var li = document.createElement("li");
    li.className = "notice";
    li.textContent = text;
    list.appendChild(li);
    chat.scrollTop = chat.scrollHeight;
  }

  function setStatus(text) { status.hidden = !text; status.textContent = text || ""; }

  function refreshControls() {
    var n = charCount(input.value);
    var over = n > LIMIT;
    send.disabled = n === 0 || over;
    counter.hidden = n < LIMIT * 0.8;
    counter.textContent = thousands(n) + "/" + thousands(LIMIT) + " ký tự";
    counter.classList.toggle("over", over);
    tooLong.hidden = !over;
    tooLong.textContent = over ? tooLongText(n) : "";
    input.style.height = "auto"; // grow with the text up to the CSS max-height
    input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
  }

  // Put unsent text back without overwriting anything typed since.
  function restore(text) {
    if (!input.value.trim()) input.value = text;
    else if (input.value.indexOf(text) === -1) input.value = text + "\n" + input.value;
    refreshControls();
  }

  function newSession(expired) {
    if (!creating) {
      creating = api("POST", "/api/web/session", {}).then(function (r) {
        if (!r.ok || !r.data.session_id) throw refused(r, "session");
        sessionId = r.data.session_id;
        save(sessionId);
        learnLimit(r.data);
        shown = {}; lastId = 0; list.textContent = ""; hint.hidden = false;
        if (expired) notice("Phiên trò chuyện trước không còn, đã bắt đầu phiên mới.");
      }).then(function () { creating = null; }, function (e) { creating = null; throw e; });
    }
    return creating;
  }

  function poll() {
    if (polling) { pollAgain = true; return Promise.resolve(); } // one request at a time
    polling = true;
    var step = sessionId ? api("GET", "/api/web/messages?session_id=" + encodeURIComponent(sessionId) +
      "&after=" + lastId) : null;
    return (step ? step.then(function (r) {
      if (r.status === 404 && errorOf(r).code === "session_not_found") return newSession(true);
      if (r.status === 429) return; // polling too fast: the next poll catches up
      if (!r.ok) throw new Error("poll " + r.status);
      learnLimit(r.data);
      render(r.data.messages);
    }) : newSession(false).then(function () { pollAgain = true; })) // its greeting, now
      .then(function () { setStatus(""); }, function (e) { setStatus(failureText(e)); })
      .then(function () {
        polling = false;
        if (pollAgain) { pollAgain = false; return poll(); }
      });
  }

  function submit(text, payload, retried) {
    var key = (payload || "") + "\u0000" + text;
    var clientId = retry.key === key ? retry.id : uuid();
    var body = { session_id: sessionId, client_message_id: clientId, text: text };
    if (payload) body.payload = payload;
    // The server runs the conversation before answering, so allow it more time than a poll.
    return api("POST", "/api/web/messages", body, 60000).then(function (r) {
      retry = { key: null, id: null };
      if (r.ok) { setStatus(""); render([r.data.message].concat(r.data.replies || [])); return; }
      var err = errorOf(r);
      if (r.status === 404 && err.code === "session_not_found" && !retried) {
        return newSession(true).then(function () { return submit(text, payload, true); },
          function (e) { setStatus(failureText(e)); if (!payload) restore(text); });
      }
      // Refused (too fast: 429 rate_limited, too long...): nothing was stored, so the text goes
      // back into the box to be sent again.
      notice(err.message || "Không gửi được tin nhắn, vui lòng thử lại.");
      if (!payload) restore(text);
    }, function () {
      retry = { key: key, id: clientId };
      setStatus(OFFLINE);
      if (!payload) restore(text);
    });
  }

  function enqueue(text, payload) {
    inFlight++;
    typing.hidden = false;
    chat.scrollTop = chat.scrollHeight; // keep the typing indicator in view
    var run = queue.then(function () {
      return (sessionId ? Promise.resolve() : newSession(false)).then(function () {
        return submit(text, payload);
      }, function (e) { setStatus(failureText(e)); if (!payload) restore(text); });
    }).then(function () {
      inFlight--;
      typing.hidden = inFlight === 0;
      poll(); // pick up replies stored after the POST answered
    });
    queue = run;
    return run;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || charCount(text) > LIMIT) return;
    input.value = "";
    refreshControls();
    enqueue(text, null);
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter is a new line; never send mid-composition (Vietnamese IMEs).
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (!send.disabled) form.requestSubmit ? form.requestSubmit(send) : send.click();
  });
  input.addEventListener("input", refreshControls);

  // Polling is the only way replies arrive (late engine answers, officers). Background tabs
  // skip it and catch up as soon as they are shown again.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  setInterval(function () { if (!document.hidden) poll(); }, POLL_MS);

  sessionId = load();
  refreshControls();
  poll(); // no stored session: creates one; otherwise loads the history (after=0)
})();

/* The staff inbox: one page over the JSON API at /inbox/api.
 *
 * It polls (the queue every 3 s, the open conversation every 2 s), so nothing
 * needs a reload; the server decides what a staff member may see. Words live in
 * inbox-words.js, one table per language, Spanish first. No inline handlers, no
 * inline styles: the page's Content-Security-Policy allows neither. */
(function () {
  "use strict";

  var QUEUE_EVERY_MS = 3000;
  var CONVERSATION_EVERY_MS = 2000;
  var LANGUAGE_KEY = "pana-inbox-lang";
  var SOUND_KEY = "pana-inbox-sound";

  var WORDS = window.PANA_INBOX_WORDS;

  var $ = function (id) { return document.getElementById(id); };
  var lang = WORDS[localStorage.getItem(LANGUAGE_KEY)] ? localStorage.getItem(LANGUAGE_KEY) : "es";
  var soundOn = localStorage.getItem(SOUND_KEY) !== "off";

  var me = null;
  var partners = [];
  var queue = [];
  var openId = null;
  var detail = null;
  var queueTimer = null;
  var conversationTimer = null;
  var attention = null; // people's messages waiting for an answer, at the last poll
  var knownWaiting = null; // ids of waiting conversations at the last poll
  var replyKey = null;
  var audio = null;

  function w(key, values) {
    var text = WORDS[lang][key];
    if (text === undefined) text = key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // The status line stays in the page, empty when there is nothing to say: a live region
  // that appears only with its text is not reliably read out.
  function say(text) {
    $("status").textContent = text || "";
  }

  // ---- the API -------------------------------------------------------------------------

  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    return fetch("/inbox/api" + path, init).then(function (response) {
      if (response.status === 401 && path !== "/login") {
        loggedOut(me ? w("session_ended") : "");
        throw new Error("login");
      }
      var parsed = response.status === 204 ? Promise.resolve(null) :
        response.json().catch(function () { return null; });
      return parsed.then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  function randomKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  // ---- words on the page ---------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-w]").forEach(function (node) {
      node.textContent = w(node.getAttribute("data-w"));
    });
    document.querySelectorAll("[data-w-label]").forEach(function (node) {
      node.setAttribute("aria-label", w(node.getAttribute("data-w-label")));
    });
    var toggle = $("language");
    toggle.textContent = w("other_language_name");
    toggle.setAttribute("lang", w("other_language"));
    showSound();
    showMe();
    showBadge(attention || 0);
    renderQueue();
    if (detail) renderConversation(detail);
  }

  function duration(seconds) {
    seconds = Math.max(0, seconds);
    if (seconds < 60) return w("under_a_minute");
    if (seconds < 3600) return w("minutes", { n: Math.floor(seconds / 60) });
    if (seconds < 86400) return w("hours", { n: Math.floor(seconds / 3600) });
    var days = Math.floor(seconds / 86400);
    return days === 1 ? w("one_day") : w("days", { n: days });
  }

  function secondsSince(iso, nowIso) {
    var now = nowIso ? Date.parse(nowIso) : Date.now();
    return Math.round((now - Date.parse(iso)) / 1000);
  }

  function clock(iso) {
    var moment = new Date(iso);
    var options = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (moment.toDateString() !== new Date().toDateString()) {
      options.day = "numeric";
      options.month = "short";
    }
    return moment.toLocaleString(w("locale"), options);
  }

  // ---- sound and badge -----------------------------------------------------------------

  // Browsers start audio only after a gesture: the context is made on the first one.
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    try {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    } catch (e) {
      audio = null;
    }
  }

  function chime() {
    document.body.setAttribute("data-chimes",
      String(Number(document.body.getAttribute("data-chimes") || 0) + 1));
    if (!soundOn || !audio) return;
    if (audio.state === "suspended") audio.resume();
    var start = audio.currentTime;
    [660, 880].forEach(function (frequency, i) {
      var tone = audio.createOscillator();
      var volume = audio.createGain();
      var at = start + i * 0.14;
      tone.type = "sine";
      tone.frequency.value = frequency;
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.13);
      tone.connect(volume).connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.14);
    });
  }

  function showSound() {
    var button = $("sound");
    button.setAttribute("aria-pressed", soundOn ? "true" : "false");
    button.title = soundOn ? w("sound_on") : w("sound_off");
  }

  function showBadge(count) {
    var badge = $("badge");
    badge.hidden = count === 0;
    badge.textContent = String(count);
    badge.setAttribute("aria-label", w("badge", { n: count }));
    badge.title = w("badge", { n: count });
    document.title = (count ? "(" + count + ") " : "") + w("title");
  }

  function needsAnswer(summary) {
    return summary.status === "waiting" || summary.mine;
  }

  function noticeNews(conversations) {
    var count = 0;
    var waiting = {};
    var newcomer = false;
    conversations.forEach(function (c) {
      if (needsAnswer(c)) count += c.unread || 0;
      if (c.status === "waiting") {
        waiting[c.id] = true;
        if (knownWaiting && !knownWaiting[c.id]) newcomer = true;
      }
    });
    if (attention !== null && (count > attention || newcomer)) chime();
    attention = count;
    knownWaiting = waiting;
    showBadge(count);
  }

  // ---- logging in and out --------------------------------------------------------------

  function showMe() {
    $("me").textContent = me ? me.name + " · " + me.org_name : "";
  }

  function loggedIn(who) {
    me = who;
    $("login-view").hidden = true;
    $("inbox-view").hidden = false;
    $("logout").hidden = false;
    $("sound").hidden = false;
    showMe();
    loadPartners();
    pollQueue();
    route();
  }

  function loggedOut(message) {
    me = null;
    queue = [];
    detail = null;
    openId = null;
    attention = null;
    knownWaiting = null;
    clearTimeout(queueTimer);
    clearTimeout(conversationTimer);
    $("inbox-view").hidden = true;
    $("logout").hidden = true;
    $("sound").hidden = true;
    $("login-view").hidden = false;
    $("waiting").textContent = "";
    $("claimed").textContent = "";
    showBadge(0);
    say(message || "");
    $("email").focus();
  }

  $("login").addEventListener("submit", function (event) {
    event.preventDefault();
    var error = $("login-error");
    error.hidden = true;
    var button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    api("POST", "/login", { email: $("email").value.trim(), password: $("password").value })
      .then(function (answer) {
        if (answer.ok) {
          $("password").value = "";
          say("");
          loggedIn(answer.data.me);
          $("queue-title").focus();
          return;
        }
        error.textContent = w(answer.status === 429 ? "too_many" : "wrong_login");
        error.hidden = false;
        $("password").focus();
      })
      .catch(function () {
        error.textContent = w("offline");
        error.hidden = false;
      })
      .then(function () { button.disabled = false; });
  });

  $("logout").addEventListener("click", function () {
    api("POST", "/logout").catch(function () {}).then(function () {
      history.replaceState(null, "", location.pathname);
      loggedOut(w("logged_out"));
    });
  });

  $("language").addEventListener("click", function () {
    lang = w("other_language");
    localStorage.setItem(LANGUAGE_KEY, lang);
    applyLanguage();
  });

  $("sound").addEventListener("click", function () {
    soundOn = !soundOn;
    localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
    showSound();
    say(soundOn ? w("sound_on") : w("sound_off"));
  });

  // A hidden tab's timers are slowed by the browser: catch up as soon as it is seen again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !me) return;
    pollQueue();
    if (openId !== null) pollConversation();
  });

  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);

  // ---- the queue -----------------------------------------------------------------------

  // Only the newest answer counts: a poll that left before a transfer or a close must not
  // draw the conversation back after the fresher one has removed it.
  var queueAsked = 0;

  function pollQueue() {
    clearTimeout(queueTimer);
    if (!me) return;
    var asked = ++queueAsked;
    api("GET", "/queue?lang=" + lang)
      .then(function (answer) {
        if (asked !== queueAsked) return;
        if (!answer.ok) throw new Error(answer.status);
        if ($("status").textContent === w("offline")) say("");
        queue = answer.data.conversations || [];
        noticeNews(queue);
        renderQueue(answer.data.now);
      })
      .catch(function (problem) {
        if (problem && problem.message === "login") return;
        say(w("offline"));
      })
      .then(function () {
        // The newest poll alone sets the next one, so stale answers never add timers.
        if (me && asked === queueAsked) queueTimer = setTimeout(pollQueue, QUEUE_EVERY_MS);
      });
  }

  function claimText(summary) {
    if (!summary.claimed_by) return null;
    return summary.mine ? w("claimed_by_you") : w("claimed_by", { name: summary.claimed_by.name });
  }

  // What Pana last answered and the city, once when they are the same ("Trujillo").
  function contextOf(c) {
    var parts = [c.topic || w("no_topic")];
    if (c.city && c.city !== c.topic) parts.push(c.city);
    return parts;
  }

  function fillItem(link, c, now) {
    link.textContent = "";
    var first = element("span", "line first");
    first.appendChild(element("span", "pseudonym", c.pseudonym));
    first.appendChild(element("span", "channel channel-" + c.channel, w("channel_" + c.channel)));
    if (c.unread) {
      var unread = element("span", "unread", String(c.unread));
      unread.setAttribute("aria-hidden", "true"); // the words follow, for screen readers
      first.appendChild(unread);
      first.appendChild(element("span", "visually-hidden", w("unanswered", { n: c.unread })));
    }
    link.appendChild(first);
    var late = typeof c.waiting_seconds === "number";
    var when = late ? w("waiting_for", { t: duration(c.waiting_seconds) }) :
      w("last_message", { t: duration(secondsSince(c.last_message_at, now)) });
    link.appendChild(element("span", "line when" + (late ? " late" : ""), when));
    link.appendChild(element("span", "line context", contextOf(c).join(" · ")));
    var claimed = claimText(c);
    if (claimed) link.appendChild(element("span", "line claimed" + (c.mine ? " mine" : ""), claimed));
  }

  function renderQueue(now) {
    var focused = document.activeElement && document.activeElement.getAttribute("data-id");
    var existing = {};
    document.querySelectorAll(".queue > li").forEach(function (item) {
      existing[item.getAttribute("data-id")] = item;
    });
    var lists = { waiting: $("waiting"), claimed: $("claimed") };
    var placed = { waiting: 0, claimed: 0 };
    queue.forEach(function (c) {
      var group = c.status === "waiting" ? "waiting" : "claimed";
      var list = lists[group];
      var item = existing[String(c.id)];
      delete existing[String(c.id)];
      if (!item) {
        item = element("li");
        item.setAttribute("data-id", String(c.id));
        var link = element("a", "item");
        link.href = "#/c/" + c.id;
        link.setAttribute("data-id", String(c.id));
        item.appendChild(link);
      }
      item.className = "status-" + c.status + (c.mine ? " mine" : "");
      var anchor = item.firstChild;
      if (String(c.id) === String(openId)) anchor.setAttribute("aria-current", "true");
      else anchor.removeAttribute("aria-current");
      fillItem(anchor, c, now);
      // Only move what is out of place, so a focused entry keeps its focus.
      if (list.children[placed[group]] !== item) list.insertBefore(item, list.children[placed[group]] || null);
      placed[group] += 1;
    });
    Object.keys(existing).forEach(function (id) { existing[id].remove(); });
    $("no-waiting").hidden = placed.waiting > 0;
    $("no-claimed").hidden = placed.claimed > 0;
    if (focused && document.activeElement === document.body) {
      var again = document.querySelector('.queue a[data-id="' + focused + '"]');
      if (again) again.focus();
    }
  }

  // ---- one conversation ----------------------------------------------------------------

  function route() {
    var match = /^#\/c\/(\d+)$/.exec(location.hash);
    if (!me) return;
    if (match) openConversation(Number(match[1]));
    else closeConversation();
  }

  window.addEventListener("hashchange", function () {
    var wasOpen = openId;
    route();
    if (!openId && wasOpen) {
      var link = document.querySelector('.queue a[data-id="' + wasOpen + '"]');
      (link || $("queue-title")).focus();
    }
  });

  function openConversation(id) {
    if (openId !== id) {
      openId = id;
      detail = null;
      $("messages").textContent = "";
      $("held-note").hidden = true;
      $("reply-text").value = "";
      replyKey = null;
      countCharacters();
      $("manage").open = false;
    }
    document.body.classList.add("viewing");
    $("pick").hidden = true;
    renderQueue();
    pollConversation(true);
  }

  function closeConversation() {
    openId = null;
    detail = null;
    clearTimeout(conversationTimer);
    document.body.classList.remove("viewing");
    $("conversation").hidden = true;
    $("pick").hidden = false;
    renderQueue();
  }

  function pollConversation(first) {
    clearTimeout(conversationTimer);
    var id = openId;
    if (!me || id === null) return;
    api("GET", "/conversations/" + id + "?lang=" + lang)
      .then(function (answer) {
        if (id !== openId) return;
        if (answer.status === 404) {
          say(w("gone"));
          location.hash = "";
          return;
        }
        if (!answer.ok) throw new Error(answer.status);
        renderConversation(answer.data);
        if (first) $("conversation-title").focus();
      })
      .catch(function (problem) {
        if (problem && problem.message === "login") return;
        say(w("offline"));
      })
      .then(function () {
        if (me && id === openId) conversationTimer = setTimeout(pollConversation, CONVERSATION_EVERY_MS);
      });
  }

  function statusText(d) {
    if (d.status === "closed") return w("status_closed");
    if (d.status === "waiting") return w("status_waiting");
    return claimText(d) || "";
  }

  function renderConversation(d) {
    detail = d;
    $("conversation").hidden = false;
    $("conversation-title").textContent = d.pseudonym;
    var context = $("context");
    context.textContent = "";
    context.appendChild(element("span", "channel channel-" + d.channel, w("channel_" + d.channel)));
    context.appendChild(element("span", "state-line", [statusText(d)].concat(contextOf(d)).join(" · ")));
    renderMessages(d.messages || []);

    var open = d.status !== "closed";
    var canReply = open && (d.status === "waiting" || d.mine);
    var windowNote = $("window-note");
    var shut = open && d.window && d.window.applies && !d.window.open;
    windowNote.hidden = !shut;
    if (shut) windowNote.textContent = w(d.template ? "window_template" : "window_wait");
    $("claim-bar").hidden = !(open && d.status === "waiting");
    var claimedNote = $("claimed-note");
    if (!open) {
      claimedNote.hidden = false;
      claimedNote.textContent = w("closed_note");
    } else if (d.status === "claimed" && !d.mine && d.claimed_by) {
      claimedNote.hidden = false;
      claimedNote.textContent = w("claimed_note", { name: d.claimed_by.name });
    } else {
      claimedNote.hidden = true;
    }
    $("reply").hidden = !canReply;
    $("manage").hidden = !canReply;
    $("transfer").hidden = partners.length === 0;
  }

  // A note for staff comes as an event and the names it needs ({event: "closed",
  // name: "Ana", outcome: "resolved"}), worded here in the page's language; a note the
  // page has no words for shows the server's English text.
  function noteText(m) {
    var note = m.note || {};
    if (note.event === "claimed") return w("note_claimed", { name: note.name });
    if (note.event === "closed" && WORDS[lang]["outcome_" + note.outcome]) {
      return w("note_closed", { name: note.name, outcome: w("outcome_" + note.outcome) });
    }
    return m.text;
  }

  function fillMessage(node, m) {
    node.textContent = "";
    if (m.direction === "note") {
      var line = element("p", "text", noteText(m) + " · ");
      var at = element("time", "at", clock(m.at));
      at.setAttribute("datetime", m.at);
      line.appendChild(at);
      node.appendChild(line);
      return;
    }
    var text = m.kind === "template" ? w("template_text", { org: m.text }) : m.text;
    node.appendChild(element("p", "text", text));
    var meta = element("p", "meta");
    var who = m.direction === "in" ? w("person") :
      m.kind === "template" ? w("template") :
      m.kind === "notice" ? w("pana_notice") : (m.staff || "");
    if (who) meta.appendChild(element("span", "who", who));
    var time = element("time", "at", clock(m.at));
    time.setAttribute("datetime", m.at);
    meta.appendChild(time);
    if (m.direction === "out" && m.status) {
      var state = element("span", "delivery state-" + m.status,
        w("delivery", { s: w("state_" + m.status) }));
      state.setAttribute("data-status", m.status);
      meta.appendChild(state);
    }
    node.appendChild(meta);
    if (m.error) node.appendChild(element("p", "failure", w("error", { e: m.error })));
  }

  function renderMessages(messages) {
    var log = $("messages");
    var nearEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    var existing = {};
    log.querySelectorAll(".msg").forEach(function (node) {
      existing[node.getAttribute("data-id")] = node;
    });
    var added = false;
    messages.forEach(function (m) {
      var node = existing[String(m.id)];
      var signature = [m.status, m.error, m.text, lang].join("\u0001");
      if (!node) {
        node = element("div", "msg " + m.direction + (m.kind && m.kind !== "text" ? " kind-" + m.kind : ""));
        node.setAttribute("data-id", String(m.id));
        node.setAttribute("data-direction", m.direction);
        log.appendChild(node);
        added = true;
      }
      if (node.getAttribute("data-signature") !== signature) {
        fillMessage(node, m);
        node.setAttribute("data-signature", signature);
      }
    });
    if (added && (nearEnd || log.children.length === messages.length)) log.scrollTop = log.scrollHeight;
  }

  $("back").addEventListener("click", function (event) {
    event.preventDefault();
    location.hash = "";
  });

  // ---- acting on a conversation --------------------------------------------------------

  $("claim").addEventListener("click", function () {
    var id = openId;
    api("POST", "/conversations/" + id + "/claim").then(function (answer) {
      if (answer.status === 409) {
        say(w("already_claimed", { name: (answer.data && answer.data.by) || "?" }));
      } else if (answer.ok) {
        if (id === openId) renderConversation(answer.data);
        $("reply-text").focus();
      } else {
        say(w("failed"));
      }
      pollQueue();
    }).catch(function () { say(w("offline")); });
  });

  function countCharacters() {
    $("reply-count").textContent = $("reply-text").value.length + " / 1500";
  }

  $("reply-text").addEventListener("input", function () {
    replyKey = null; // an edited text is a new message
    countCharacters();
  });

  $("reply-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $("reply").requestSubmit();
    }
  });

  $("reply").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("reply-text").value.trim();
    var id = openId;
    if (!text || id === null) return;
    // The same key until it is sent: a second click, or a retry, sends it once.
    replyKey = replyKey || randomKey();
    var send = $("send");
    send.disabled = true;
    send.textContent = w("sending");
    api("POST", "/conversations/" + id + "/reply", { text: text, key: replyKey })
      .then(function (answer) {
        if (answer.status === 409) {
          say(w("already_claimed", { name: (answer.data && answer.data.by) || "?" }));
          return;
        }
        if (!answer.ok) {
          say(w("send_failed"));
          return;
        }
        replyKey = null;
        if (id === openId) {
          $("reply-text").value = "";
          countCharacters();
          var notice = answer.data && answer.data.notice;
          $("held-note").hidden = !notice;
          if (notice) $("held-note").textContent = w(notice);
        }
        say("");
        pollConversation();
        pollQueue();
      })
      .catch(function (problem) {
        if (problem && problem.message !== "login") say(w("send_failed"));
      })
      .then(function () {
        send.disabled = false;
        send.textContent = w("send");
      });
  });

  // Organisations with staff: asked again each time the menu opens, as one may start later.
  function loadPartners() {
    api("GET", "/partners").then(function (answer) {
      partners = answer.ok && Array.isArray(answer.data) ? answer.data : [];
      fillPartners();
    }).catch(function () {});
  }

  $("manage").addEventListener("toggle", function () {
    if ($("manage").open) loadPartners();
  });

  function fillPartners() {
    var select = $("partner");
    var chosen = select.value;
    select.textContent = "";
    partners.forEach(function (p) {
      var option = element("option", null, p.name);
      option.value = p.code;
      option.selected = p.code === chosen;
      select.appendChild(option);
    });
    $("transfer").hidden = partners.length === 0;
  }

  function leave(message) {
    say(message);
    location.hash = "";
    pollQueue();
  }

  $("transfer").addEventListener("submit", function (event) {
    event.preventDefault();
    var select = $("partner");
    var name = select.options[select.selectedIndex] ? select.options[select.selectedIndex].text : "";
    api("POST", "/conversations/" + openId + "/transfer", { org: select.value })
      .then(function (answer) {
        if (answer.ok) leave(w("transferred", { name: name }));
        else if (answer.status === 409) say(w("already_claimed", { name: (answer.data && answer.data.by) || "?" }));
        else say(w("failed"));
      })
      .catch(function () { say(w("offline")); });
  });

  $("close").addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", "/conversations/" + openId + "/close", { outcome: $("outcome").value })
      .then(function (answer) {
        if (answer.ok) leave(w("closed"));
        else if (answer.status === 409) say(w("already_claimed", { name: (answer.data && answer.data.by) || "?" }));
        else say(w("failed"));
      })
      .catch(function () { say(w("offline")); });
  });

  // ---- start ---------------------------------------------------------------------------

  applyLanguage();
  say("");
  api("GET", "/me")
    .then(function (answer) {
      if (answer.ok) loggedIn(answer.data);
      else loggedOut("");
    })
    .catch(function (problem) {
      if (!problem || problem.message !== "login") loggedOut(w("offline"));
    });
})();

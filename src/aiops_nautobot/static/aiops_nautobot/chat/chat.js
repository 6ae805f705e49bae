/* The chat page: a client of /api/plugins/ai-ops/chat/ (server-sent events), chat/approve/,
 * chat/cancel/ and conversations/.
 *
 * Model text is rendered by render.js (sanitised Markdown); tool arguments, results, errors and
 * the model's thinking are shown with textContent only. The current conversation is kept in
 * localStorage under a key of its own per user, and dropped once older than the server's
 * session TTL plus a grace period. */
(function () {
  "use strict";

  var root = document.getElementById("aiops-chat");
  if (!root) { return; }
  var cfg = JSON.parse(document.getElementById("aiops-chat-config").textContent);
  var render = window.aiopsChatRender;
  var csrf = root.getAttribute("data-csrf");
  var STORE_KEY = "aiops-chat:v1:user:" + cfg.user;
  var TTL_MS = cfg.ttl_minutes * 60 * 1000;
  var KEEP_MS = (cfg.ttl_minutes + cfg.grace_minutes) * 60 * 1000;
  var LONG_RESULT = 400;
  var OBJECT_REF = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*:[A-Za-z0-9_.:\-]{1,128}$/;

  var el = {
    log: byId("aiops-chat-log"), form: byId("aiops-chat-form"), input: byId("aiops-chat-input"),
    send: byId("aiops-chat-send"), stop: byId("aiops-chat-stop"), model: byId("aiops-chat-model"),
    clear: byId("aiops-chat-clear"), create: byId("aiops-chat-new"), notice: byId("aiops-chat-notice"),
    history: byId("aiops-chat-history"), historyEmpty: byId("aiops-chat-history-empty"),
    title: byId("aiops-chat-title"), status: byId("aiops-chat-status"), context: byId("aiops-chat-context"),
    budget: byId("aiops-chat-budget"),
    tenant: byId("aiops-chat-tenant"),  // only when the user may view a tenant
  };

  var state = {
    threadId: null,      // set on the first message (the page names new threads itself)
    conversationId: null,
    modelId: null,
    tenantId: null,      // the thread's tenant (fixed at its first turn); null: shared
    title: null,
    transcript: [],      // [{role: "user"|"assistant", text, calls: [...], thinking}]
    busy: false,
    controller: null,
    lastActivity: Date.now(),
    conversations: [],
  };
  var objectRef = objectFromUrl();
  var inactivityTimer = null;

  function byId(id) { return document.getElementById(id); }

  // ---- small DOM helpers -------------------------------------------------------------------
  function node(tag, className, text) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    if (text !== undefined && text !== null) { element.textContent = text; }
    return element;
  }

  function pretty(value) {
    if (typeof value === "string") { return value; }
    try { return JSON.stringify(value, null, 2); } catch (err) { return String(value); }
  }

  function announce(text) { el.status.textContent = text; }

  function showNotice(text) {
    el.notice.textContent = text;
    el.notice.hidden = !text;
  }

  function scrollDown() { el.log.scrollTop = el.log.scrollHeight; }

  // ---- API -----------------------------------------------------------------------------------
  function api(url, options) {
    options = options || {};
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf };
    if (options.body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: options.method || "GET",
      headers: headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  }

  function errorText(response, data) {
    if (data && data.detail) { return data.detail; }
    return "The request failed (HTTP " + response.status + ").";
  }

  function readJson(response) {
    return response.json().catch(function () { return null; });
  }

  // ---- storage (per user, expiring) ----------------------------------------------------------
  function save() {
    var data = {
      threadId: state.threadId, conversationId: state.conversationId, modelId: state.modelId,
      tenantId: state.tenantId, title: state.title, transcript: state.transcript, lastActivity: state.lastActivity,
    };
    try { localStorage.setItem(STORE_KEY, JSON.stringify(data)); } catch (err) { /* full */ }
  }

  function load() {
    var raw = null;
    try { raw = localStorage.getItem(STORE_KEY); } catch (err) { return null; }
    if (!raw) { return null; }
    try {
      var data = JSON.parse(raw);
      if (!data || typeof data.lastActivity !== "number" || Date.now() - data.lastActivity > KEEP_MS) {
        localStorage.removeItem(STORE_KEY);
        if (data && data.conversationId) {
          // Expired: the cleanup job drops it too, but a record left behind goes now.
          api(cfg.urls.conversations + data.conversationId + "/", { method: "DELETE" }).catch(function () { return null; });
        }
        return null;
      }
      return data;
    } catch (err) {
      localStorage.removeItem(STORE_KEY);
      return null;
    }
  }

  function touch() {
    state.lastActivity = Date.now();
    if (inactivityTimer) { clearTimeout(inactivityTimer); }
    inactivityTimer = setTimeout(expire, TTL_MS);
  }

  function expire() {
    if (state.busy) { touch(); return; }
    if (!state.threadId) { return; }
    clearConversation("Your conversation was cleared after " + cfg.ttl_minutes + " minutes without activity.");
  }

  // ---- tenants and models ----------------------------------------------------------------------
  function fillTenants() {
    if (!el.tenant) { return; }
    el.tenant.appendChild(node("option", null, "None (shared)"));
    el.tenant.firstChild.value = "";
    (cfg.tenants || []).forEach(function (t) {
      var option = node("option", null, t.name);
      option.value = t.id;
      el.tenant.appendChild(option);
    });
  }

  function selectTenant(id) {
    state.tenantId = id || null;
    if (!el.tenant) { return; }
    el.tenant.value = state.tenantId || "";
    el.tenant.disabled = Boolean(state.conversationId || state.transcript.length);
    fillModels();
  }

  function tenantModels() {
    // A tenant's own models and the shared ones; its own default wins over the shared one.
    var tenant = state.tenantId;
    var usable = cfg.models.filter(function (m) { return !m.tenant || m.tenant === tenant; });
    var own = usable.filter(function (m) { return m.default && m.tenant; })[0];
    return usable.map(function (m) {
      return { id: m.id, label: m.label, default: own ? m === own : (m.default && !m.tenant) };
    });
  }

  function fillModels() {
    el.model.textContent = "";
    tenantModels().forEach(function (m) {
      var option = node("option", null, m.label + (m.default ? " (default)" : ""));
      option.value = m.id;
      if (m.default) { option.selected = true; }
      el.model.appendChild(option);
    });
    if (!cfg.models.length) {
      var none = node("option", null, cfg.fallback_model ? cfg.fallback_model + " (environment)" : "No model configured");
      none.value = "";
      el.model.appendChild(none);
      el.model.disabled = true;
      if (!cfg.fallback_model) {
        showNotice("No LLM model is configured, so the chat cannot answer. An administrator must add "
          + "a provider under AI Ops › LLM Providers and a model under AI Ops › LLM Models (with its "
          + "API key Secret) and mark it default.");
        el.send.disabled = true;
      }
    }
  }

  function selectModel(id) {
    state.modelId = id || null;
    if (id) { el.model.value = id; }
    el.model.disabled = !cfg.models.length || Boolean(state.conversationId || state.transcript.length);
    showBudget();
  }

  // The remaining budget (USD string) of the selected model: from the page's config, then from
  // each answer of the chat API (budget_remaining); hidden when no budget applies.
  function currentModel() {
    var id = state.modelId || el.model.value;
    return cfg.models.filter(function (m) { return m.id === id; })[0] || null;
  }

  function showBudget() {
    var model = currentModel();
    var left = model ? model.budget_remaining : undefined;
    el.budget.hidden = left === undefined || left === null;
    el.budget.textContent = el.budget.hidden ? "" : "Budget left: $" + Number(left).toFixed(2);
  }

  function noteBudget(reply) {
    var model = currentModel();
    if (model && typeof reply.budget_remaining === "string") {
      model.budget_remaining = reply.budget_remaining;
      showBudget();
    }
  }

  // ---- transcript rendering --------------------------------------------------------------------
  function addUser(text) {
    var item = node("div", "aiops-msg aiops-msg-user");
    item.appendChild(node("div", "aiops-msg-who", "You"));
    item.appendChild(node("div", "aiops-msg-text", text));
    el.log.appendChild(item);
    scrollDown();
  }

  function Answer(entry) {
    this.entry = entry;
    this.element = node("div", "aiops-msg aiops-msg-assistant");
    this.element.appendChild(node("div", "aiops-msg-who", "Assistant"));
    this.thinking = null;
    this.calls = {};
    this.body = node("div", "aiops-msg-body");
    this.element.appendChild(this.body);
    this.textBox = null;
    this.pendingPaint = false;
    el.log.appendChild(this.element);
  }

  Answer.prototype.appendText = function (delta) {
    this.entry.text = (this.entry.text || "") + delta;
    if (!this.textBox) {
      this.textBox = node("div", "aiops-msg-text aiops-markdown");
      this.body.appendChild(this.textBox);
    }
    if (!this.pendingPaint) {
      this.pendingPaint = true;
      var self = this;
      requestAnimationFrame(function () { self.paint(); });
    }
  };

  Answer.prototype.paint = function () {
    this.pendingPaint = false;
    if (this.textBox) {
      render.renderMarkdown(this.textBox, this.entry.text || "");
      if (!window.aiopsChatFirstPaint) { window.aiopsChatFirstPaint = performance.now(); }
    }
    scrollDown();
  };

  Answer.prototype.appendThinking = function (delta) {
    this.entry.thinking = (this.entry.thinking || "") + delta;
    if (!this.thinking) {
      var box = node("details", "aiops-thinking");
      box.appendChild(node("summary", null, "Thinking"));
      this.thinkingText = node("pre", "aiops-pre");
      box.appendChild(this.thinkingText);
      this.body.insertBefore(box, this.body.firstChild);
      this.thinking = box;
    }
    this.thinkingText.textContent = this.entry.thinking;
  };

  Answer.prototype.callStarted = function (call) {
    var record = { id: call.id, name: call.name, arguments: call.arguments, started: Date.now() };
    this.entry.calls = this.entry.calls || [];
    this.entry.calls.push(record);
    this.showCall(record);
  };

  Answer.prototype.showCall = function (record) {
    var box = node("details", "aiops-tool");
    box.setAttribute("data-call-id", record.id);
    var summary = node("summary");
    summary.appendChild(node("span", "aiops-tool-name", record.name));
    var state_ = node("span", "aiops-tool-state", " running…");
    summary.appendChild(state_);
    box.appendChild(summary);
    box.appendChild(node("div", "aiops-tool-label", "Arguments"));
    box.appendChild(node("pre", "aiops-pre aiops-tool-args", pretty(record.arguments)));
    this.body.appendChild(box);
    this.calls[record.id] = { box: box, state: state_, record: record };
    if (record.result !== undefined) { this.showResult(record); }
    scrollDown();
  };

  Answer.prototype.callFinished = function (data) {
    var shown = this.calls[data.id];
    if (!shown) { this.callStarted(data); shown = this.calls[data.id]; }
    var record = shown.record;
    record.result = data.result;
    record.is_error = Boolean(data.is_error);
    record.duration_ms = Date.now() - record.started;
    this.showResult(record);
  };

  Answer.prototype.showResult = function (record) {
    var shown = this.calls[record.id];
    shown.state.textContent = record.is_error ? " failed" : " done";
    if (typeof record.duration_ms === "number") {
      shown.state.textContent += " in " + (record.duration_ms / 1000).toFixed(2) + " s";
    }
    shown.box.classList.toggle("aiops-tool-error", record.is_error);
    var text = record.result === null || record.result === undefined ? "" : String(record.result);
    var label = node("div", "aiops-tool-label", record.is_error ? "Error" : "Result");
    var pre = node("pre", "aiops-pre aiops-tool-result", text);
    if (text.length > LONG_RESULT || text.split("\n").length > 12) {
      var more = node("details", "aiops-tool-long");
      more.appendChild(node("summary", null, (record.is_error ? "Error" : "Result") + " (" + text.length + " characters)"));
      more.appendChild(pre);
      shown.box.appendChild(more);
    } else {
      shown.box.appendChild(label);
      shown.box.appendChild(pre);
    }
  };

  Answer.prototype.note = function (text, className) {
    this.body.appendChild(node("p", "aiops-note " + (className || ""), text));
    scrollDown();
  };

  // ---- approvals and questions ----------------------------------------------------------------
  Answer.prototype.showPending = function (reply) {
    var self = this;
    var pending = reply.pending_approval || [];
    var box = node("fieldset", "aiops-pending");
    box.appendChild(node("legend", null, "Waiting for your decision"));
    var decisions = {};
    var answers = {};
    pending.forEach(function (call) {
      var item = node("div", "aiops-pending-call");
      item.setAttribute("data-call-id", call.id);
      item.appendChild(node("div", "aiops-tool-name", call.name));
      if (call.reason) { item.appendChild(node("div", "small text-muted", call.reason)); }
      item.appendChild(node("pre", "aiops-pre", pretty(call.arguments)));
      if (call.question) {
        item.appendChild(questionForm(call, answers));
      } else {
        var approve = node("button", "btn btn-sm btn-success", "Approve");
        var reject = node("button", "btn btn-sm btn-outline-danger", "Reject");
        approve.type = reject.type = "button";
        approve.setAttribute("aria-label", "Approve " + call.name);
        reject.setAttribute("aria-label", "Reject " + call.name);
        approve.addEventListener("click", function () { decide(call.id, "approve", item); });
        reject.addEventListener("click", function () { decide(call.id, "reject", item); });
        var row = node("div", "aiops-pending-buttons");
        row.appendChild(approve);
        row.appendChild(reject);
        item.appendChild(row);
      }
      box.appendChild(item);
    });
    this.body.appendChild(box);
    var first = box.querySelector("button, input, select, textarea");
    if (first) { first.focus(); }
    announce("The assistant waits for your decision on " + pending.length + " tool call(s).");
    scrollDown();

    function decide(callId, decision, item) {
      decisions[callId] = decision;
      item.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      item.appendChild(node("div", "aiops-decision", decision === "approve" ? "Approved" : "Rejected"));
      if (Object.keys(decisions).length === pending.length) {
        box.disabled = true;
        resume(reply, decisions, answers, self);
      }
    }

    function questionForm(call, answers_) {
      var q = call.question || {};
      var form = node("form", "aiops-question");
      form.appendChild(node("p", null, q.message || "The tool asks for input."));
      var schema = q.requested_schema || {};
      var props = schema.properties || {};
      var required = schema.required || [];
      var fields = {};
      Object.keys(props).forEach(function (name, index) {
        var prop = props[name] || {};
        var id = "aiops-q-" + call.id.replace(/[^A-Za-z0-9_-]/g, "_") + "-" + index;
        var wrap = node("div", "mb-1");
        var label = node("label", "form-label small", prop.title || name);
        label.setAttribute("for", id);
        var input;
        if (Array.isArray(prop.enum)) {
          input = node("select", "form-select form-select-sm");
          prop.enum.forEach(function (value, i) {
            var option = node("option", null, (prop.enumNames && prop.enumNames[i]) || String(value));
            option.value = String(value);
            input.appendChild(option);
          });
        } else if (prop.type === "boolean") {
          input = node("input", "form-check-input");
          input.type = "checkbox";
          input.checked = Boolean(prop.default);
        } else {
          input = node("input", "form-control form-control-sm");
          input.type = prop.type === "number" || prop.type === "integer" ? "number" : "text";
          if (prop.type === "integer") { input.step = "1"; }
          if (prop.default !== undefined) { input.value = String(prop.default); }
        }
        input.id = id;
        if (required.indexOf(name) >= 0) { input.required = true; }
        if (prop.description) { input.title = prop.description; }
        wrap.appendChild(label);
        wrap.appendChild(input);
        form.appendChild(wrap);
        fields[name] = { input: input, prop: prop };
      });
      var row = node("div", "aiops-pending-buttons");
      [["accept", "Submit", "btn-success"], ["decline", "Decline", "btn-outline-danger"], ["cancel", "Cancel", "btn-outline-secondary"]]
        .forEach(function (spec) {
          var button = node("button", "btn btn-sm " + spec[2], spec[1]);
          button.type = spec[0] === "accept" ? "submit" : "button";
          button.setAttribute("data-action", spec[0]);
          if (spec[0] !== "accept") {
            button.addEventListener("click", function () { answer(spec[0]); });
          }
          row.appendChild(button);
        });
      form.appendChild(row);
      form.addEventListener("submit", function (event) { event.preventDefault(); answer("accept"); });

      function answer(action) {
        var entry = { action: action };
        if (action === "accept") {
          var content = {};
          Object.keys(fields).forEach(function (name) {
            var f = fields[name];
            if (f.prop.type === "boolean") { content[name] = f.input.checked; }
            else if (f.input.value === "") { return; }
            else if (f.prop.type === "integer") { content[name] = parseInt(f.input.value, 10); }
            else if (f.prop.type === "number") { content[name] = Number(f.input.value); }
            else { content[name] = f.input.value; }
          });
          entry.content = content;
        }
        answers_[call.id] = entry;
        form.querySelectorAll("button, input, select").forEach(function (b) { b.disabled = true; });
        decide(call.id, action === "accept" ? "approve" : "reject", form.parentNode);
      }
      return form;
    }
  };

  function resume(reply, decisions, answers, answer) {
    var body = { thread_id: state.threadId, pause_id: reply.pause_id, approve: [], reject: [] };
    Object.keys(decisions).forEach(function (id) { body[decisions[id]].push(id); });
    if (Object.keys(answers).length) { body.answers = answers; }
    setBusy(true, false);
    api(cfg.urls.approve, { method: "POST", body: body }).then(function (response) {
      return readJson(response).then(function (data) {
        if (!response.ok) { throw new Error(errorText(response, data)); }
        (data.tool_calls || []).forEach(function (call) {
          if (!answer.calls[call.id] || answer.calls[call.id].record.result === undefined) {
            answer.callFinished(call);
          }
        });
        var next = newAnswer();
        if (typeof data.output === "string" && data.output) { next.appendText(data.output); next.paint(); }
        finishTurn(next, data);
      });
    }).catch(function (err) {
      answer.note(String(err.message || err), "text-danger");
    }).then(function () { setBusy(false); });
  }

  // ---- sending -------------------------------------------------------------------------------
  function newAnswer() {
    var entry = { role: "assistant", text: "", calls: [] };
    state.transcript.push(entry);
    return new Answer(entry);
  }

  function newThreadId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function setBusy(busy, streaming) {
    state.busy = busy;
    el.send.disabled = busy || (!cfg.models.length && !cfg.fallback_model);
    el.stop.hidden = !(busy && streaming !== false);
    el.log.setAttribute("aria-busy", busy ? "true" : "false");
    el.clear.disabled = busy;
    el.create.disabled = busy;
  }

  function send(text) {
    if (state.busy || !text.trim()) { return; }
    touch();
    var first = !state.threadId;
    if (first) { state.threadId = newThreadId(); }
    if (!state.title) { setTitle(text.slice(0, 80)); }
    state.transcript.push({ role: "user", text: text });
    addUser(text);
    var answer = newAnswer();
    var body = { message: text, thread_id: state.threadId, stream: true };
    if (first && el.model.value) { body.model = el.model.value; state.modelId = el.model.value; }
    if (first && state.tenantId) { body.tenant = state.tenantId; }
    if (objectRef) { body.context = { object: objectRef }; }
    selectModel(state.modelId);
    if (el.tenant) { el.tenant.disabled = true; }
    save();
    state.controller = new AbortController();
    setBusy(true, true);
    announce("The assistant is answering.");
    window.aiopsChatFirstPaint = null;
    window.aiopsChatSentAt = performance.now();
    api(cfg.urls.chat, { method: "POST", body: body, signal: state.controller.signal })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("text/event-stream") < 0) {
          return readJson(response).then(function (data) {
            if (data && data.error === "budget_exceeded") { noteBudget({ budget_remaining: "0" }); }
            throw new Error(errorText(response, data));
          });
        }
        return readEvents(response, answer);
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") {
          answer.note("Stopped. Nothing of this turn was kept.", "text-muted");
          dropFailedTurn(answer);
        } else {
          answer.note(String((err && err.message) || err), "text-danger");
          dropFailedTurn(answer);
        }
      })
      .then(function () {
        state.controller = null;
        setBusy(false);
        save();
        el.input.focus();
      });
  }

  function dropFailedTurn(answer) {
    // A failed or stopped turn is not stored by the server: keep the local copy in step.
    var index = state.transcript.indexOf(answer.entry);
    if (index > 0) { state.transcript.splice(index - 1, 2); }
    if (!state.transcript.length && !state.conversationId) { state.threadId = null; state.title = null; }
  }

  function readEvents(response, answer) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var ended = false;
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (!ended) { answer.note("The answer ended unexpectedly.", "text-danger"); dropFailedTurn(answer); }
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(function (block) {
          var name = "message";
          var data = "";
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) { name = line.slice(7); }
            else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
          });
          var payload = null;
          try { payload = data ? JSON.parse(data) : null; } catch (err) { payload = null; }
          if (handleEvent(name, payload, answer)) { ended = true; }
        });
        return pump();
      });
    }
    return pump();
  }

  function handleEvent(name, data, answer) {
    data = data || {};
    if (name === "text") { answer.appendText(data.delta || ""); }
    else if (name === "thinking") { answer.appendThinking(data.delta || ""); }
    else if (name === "tool_call_started") { answer.callStarted(data); }
    else if (name === "tool_call_finished") { answer.callFinished(data); }
    else if (name === "final") { answer.paint(); finishTurn(answer, data); return true; }
    else if (name === "cancelled") {
      answer.paint();
      answer.note("Stopped. Nothing of this turn was kept.", "text-muted");
      dropFailedTurn(answer);
      announce("Stopped.");
      return true;
    } else if (name === "error") {
      answer.note(data.detail || "The assistant failed.", "text-danger");
      dropFailedTurn(answer);
      return true;
    }
    return false;
  }

  function finishTurn(answer, reply) {
    touch();
    if (reply.status === "pending_approval") {
      answer.showPending(reply);
    } else {
      announce("The assistant answered.");
    }
    (reply.warnings || []).forEach(function (w) { answer.note(String(w), "text-warning"); });
    noteBudget(reply);
    save();
    refreshConversations();
  }

  function stop() {
    if (!state.busy || !state.threadId) { return; }
    el.stop.disabled = true;
    var controller = state.controller;
    api(cfg.urls.cancel, { method: "POST", body: { thread_id: state.threadId } })
      .catch(function () { return null; })
      .then(function () {
        // The stream ends with a "cancelled" event; if it does not come soon, stop reading.
        setTimeout(function () { if (state.controller === controller && controller) { controller.abort(); } }, 3000);
        el.stop.disabled = false;
      });
  }

  // ---- conversations -------------------------------------------------------------------------
  function setTitle(title) {
    state.title = title;
    el.title.textContent = title || "New conversation";
  }

  function refreshConversations() {
    var url = cfg.urls.conversations + "?owner=" + encodeURIComponent(cfg.user) + "&limit=50&depth=1";
    return api(url).then(function (response) {
      return readJson(response).then(function (data) {
        if (!response.ok || !data) { return; }
        var rows = (data.results || []).slice().sort(function (a, b) {
          return String(b.last_activity).localeCompare(String(a.last_activity));
        });
        state.conversations = rows;
        rows.forEach(function (row) {
          if (row.thread_id === state.threadId) { state.conversationId = row.id; }
        });
        drawConversations();
        save();
      });
    }).catch(function () { /* the sidebar stays as it was */ });
  }

  function localTitles() {
    var titles = {};
    try { titles = JSON.parse(localStorage.getItem(STORE_KEY + ":titles") || "{}") || {}; } catch (err) { titles = {}; }
    return titles;
  }

  function rememberTitle(threadId, title) {
    var titles = localTitles();
    titles[threadId] = title;
    try { localStorage.setItem(STORE_KEY + ":titles", JSON.stringify(titles)); } catch (err) { /* full */ }
  }

  function drawConversations() {
    if (state.threadId && state.title) { rememberTitle(state.threadId, state.title); }
    var titles = localTitles();
    el.history.textContent = "";
    el.historyEmpty.hidden = state.conversations.length > 0;
    state.conversations.forEach(function (row) {
      var item = node("li", "aiops-history-item");
      if (row.thread_id === state.threadId) { item.classList.add("active"); item.setAttribute("aria-current", "true"); }
      var open = node("button", "aiops-history-open");
      open.type = "button";
      var title = titles[row.thread_id] || row.title || "Conversation";
      open.appendChild(node("span", "aiops-history-title", title));
      var model = row.llm_model && (row.llm_model.display || row.llm_model.name);
      var when = row.last_activity ? new Date(row.last_activity).toLocaleString() : "";
      open.appendChild(node("span", "aiops-history-meta", [model, when].filter(Boolean).join(" · ")));
      open.addEventListener("click", function () { openConversation(row); });
      var remove = node("button", "btn btn-sm btn-link text-danger aiops-history-delete", "Delete");
      remove.type = "button";
      remove.setAttribute("aria-label", "Delete conversation " + title);
      remove.addEventListener("click", function () { deleteConversation(row); });
      item.appendChild(open);
      item.appendChild(remove);
      el.history.appendChild(item);
    });
  }

  function openConversation(row) {
    if (state.busy) { return; }
    var url = cfg.urls.conversations + row.id + "/messages/";
    return api(url).then(function (response) {
      return readJson(response).then(function (data) {
        if (!response.ok) { showNotice(errorText(response, data)); return; }
        resetView();
        state.threadId = row.thread_id;
        state.conversationId = row.id;
        setTitle(localTitles()[row.thread_id] || data.title || row.title);
        state.transcript = transcriptFromMessages(data.messages || []);
        var tenantId = row.tenant && (row.tenant.id || row.tenant);
        selectTenant(typeof tenantId === "string" ? tenantId : null);
        var modelId = row.llm_model && (row.llm_model.id || row.llm_model);
        selectModel(typeof modelId === "string" ? modelId : null);
        drawTranscript();
        touch();
        save();
        drawConversations();
        el.input.focus();
      });
    });
  }

  function deleteConversation(row) {
    return api(cfg.urls.conversations + row.id + "/", { method: "DELETE" }).then(function (response) {
      if (!response.ok && response.status !== 404) { showNotice("Could not delete the conversation (HTTP " + response.status + ")."); return; }
      if (row.thread_id === state.threadId) { startNew(); }
      return refreshConversations();
    });
  }

  function textOf(content) {
    if (typeof content === "string") { return content; }
    if (Array.isArray(content)) {
      return content.map(function (part) { return part && part.type === "text" ? part.text : ""; }).join("");
    }
    return "";
  }

  function transcriptFromMessages(messages) {
    var out = [];
    var current = null;
    var byCall = {};
    messages.forEach(function (m) {
      if (m.role === "user") {
        out.push({ role: "user", text: textOf(m.content) });
        current = null;
      } else if (m.role === "assistant") {
        if (!current) { current = { role: "assistant", text: "", calls: [] }; out.push(current); }
        var text = textOf(m.content);
        if (text) { current.text = current.text ? current.text + "\n\n" + text : text; }
        (m.tool_calls || []).forEach(function (call) {
          var record = { id: call.id, name: call.name, arguments: call.arguments };
          current.calls.push(record);
          byCall[call.id] = record;
        });
      } else if (m.role === "tool" && byCall[m.tool_call_id]) {
        byCall[m.tool_call_id].result = textOf(m.content);
        byCall[m.tool_call_id].is_error = Boolean(m.is_error);
      }
    });
    return out;
  }

  function drawTranscript() {
    el.log.textContent = "";
    state.transcript.forEach(function (entry) {
      if (entry.role === "user") { addUser(entry.text); return; }
      var answer = new Answer(entry);
      if (entry.thinking) { var t = entry.thinking; entry.thinking = ""; answer.appendThinking(t); }
      (entry.calls || []).forEach(function (record) { answer.showCall(record); });
      if (entry.text) {
        answer.textBox = node("div", "aiops-msg-text aiops-markdown");
        answer.body.appendChild(answer.textBox);
        answer.paint();
      }
    });
  }

  function resetView() {
    el.log.textContent = "";
    showNotice("");
    state.threadId = null;
    state.conversationId = null;
    state.transcript = [];
    setTitle(null);
    if (!cfg.models.length && !cfg.fallback_model) { fillModels(); }
  }

  function startNew() {
    if (state.busy) { return; }
    resetView();
    selectTenant(state.tenantId);
    var models = tenantModels();
    var fallback = models.filter(function (m) { return m.default; })[0];
    selectModel(fallback ? fallback.id : (models[0] && models[0].id));
    state.modelId = null;
    save();
    drawConversations();
    el.input.focus();
  }

  function clearConversation(message) {
    var row = state.conversations.filter(function (r) { return r.thread_id === state.threadId; })[0];
    var id = state.conversationId || (row && row.id);
    var done = id ? api(cfg.urls.conversations + id + "/", { method: "DELETE" }) : Promise.resolve(null);
    return done.catch(function () { return null; }).then(function () {
      try { localStorage.removeItem(STORE_KEY); } catch (err) { /* ignore */ }
      startNew();
      if (message) { showNotice(message); }
      return refreshConversations();
    });
  }

  function objectFromUrl() {
    var value = new URLSearchParams(window.location.search).get("object");
    if (!value) { return null; }
    if (!OBJECT_REF.test(value)) {
      showNotice("Ignored ?object=: it must look like app_label.model:pk, e.g. dcim.device:<uuid>.");
      return null;
    }
    el.context.textContent = "Context: " + value;
    el.context.hidden = false;
    return value;
  }

  // ---- events --------------------------------------------------------------------------------
  el.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el.input.value;
    if (!text.trim()) { return; }
    el.input.value = "";
    send(text);
  });
  el.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.form.requestSubmit();
    }
  });
  el.input.addEventListener("input", touch);
  el.stop.addEventListener("click", stop);
  el.create.addEventListener("click", startNew);
  el.clear.addEventListener("click", function () { clearConversation("Conversation cleared."); });
  el.model.addEventListener("change", function () {
    if (!state.threadId) { state.modelId = el.model.value; }
    showBudget();
  });
  if (el.tenant) {
    el.tenant.addEventListener("change", function () {
      if (state.threadId) { return; }
      selectTenant(el.tenant.value);
      selectModel(el.model.value);
      state.modelId = null;
      showBudget();
    });
  }

  // ---- start ---------------------------------------------------------------------------------
  fillTenants();
  fillModels();
  var saved = load();
  if (saved && saved.threadId) {
    state.threadId = saved.threadId;
    state.conversationId = saved.conversationId;
    state.transcript = saved.transcript || [];
    state.lastActivity = saved.lastActivity;
    setTitle(saved.title);
    selectTenant(saved.tenantId);
    selectModel(saved.modelId);
    drawTranscript();
    var remaining = TTL_MS - (Date.now() - saved.lastActivity);
    inactivityTimer = setTimeout(expire, Math.max(0, remaining));
  } else {
    selectModel(el.model.value);
    state.modelId = null;
    touch();
  }
  refreshConversations();
  setBusy(false);
})();

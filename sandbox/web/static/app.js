// Cunmin sandbox: a chat client for the Bot API emulator. Plain DOM, no framework, nothing from a CDN.
//
// Safety: the bot's messages are drawn from their text and entities with text nodes and elements
// built one by one; nothing received is ever parsed as HTML. Links keep only http(s), tg,
// mailto and tel addresses.
"use strict";

(() => {
  const STRINGS = window.CUNMIN_PAGE_STRINGS;
  const $ = (id) => document.getElementById(id);

  const state = {
    lang: "zh",
    boot: null,
    persona: null, // the persona whose phone the page holds
    messages: new Map(), // message_id -> message JSON (current persona's chat)
    waiting: 0,
    commands: [],
    keyboardToggled: false,
    watch: null, // user_id of the chat shown in the panel's transcript
    watchMessages: new Map(),
    panelChats: [],
    events: null,
    cursor: 0,
    watchCursor: 0,
    searchTimer: 0,
    refreshTimer: 0,
    panelTimer: 0,
    toastTimer: 0,
  };

  // ------------------------------------------------------------------------------- strings

  function t(key, values) {
    const table = STRINGS[state.lang] || STRINGS.zh;
    let text = table[key] ?? STRINGS.en[key] ?? key;
    if (values) {
      for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  function applyStaticStrings() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("page_title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of document.querySelectorAll("[data-i18n-title]")) {
      el.title = t(el.dataset.i18nTitle);
      el.setAttribute("aria-label", el.title);
    }
    for (const button of document.querySelectorAll(".lang-switch button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
  }

  function setLanguage(lang) {
    state.lang = lang in STRINGS ? lang : "zh";
    try {
      localStorage.setItem("cunmin-sandbox-lang", state.lang);
    } catch (_) {
      /* private mode: the choice just is not remembered */
    }
    applyStaticStrings();
    renderFeatured();
    renderWhoami();
    renderComposer();
    renderPanelPersona();
    renderSearchResults(state.lastSearch);
    renderChat();
    refreshPanel();
  }

  // ---------------------------------------------------------------------------------- HTTP

  async function api(method, path, body) {
    const options = { method, headers: {} };
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      throw new Error(`HTTP ${response.status}`);
    }
    if (!data.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data.result;
  }

  function reportError(error) {
    showToast(t("error", { error: error.message || String(error) }));
  }

  // ------------------------------------------------------------------------------- helpers

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") el.className = value;
        else if (key === "style") Object.assign(el.style, value); // CSSOM: allowed by the CSP, unlike style=""
        else if (key === "dataset") Object.assign(el.dataset, value);
        else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
        else if (key === "text") el.textContent = value;
        else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, "https://invalid.example/");
      if (["http:", "https:", "tg:", "mailto:", "tel:"].includes(parsed.protocol) && /^[a-z]+:/i.test(url)) {
        return parsed.href;
      }
    } catch (_) {
      /* not a URL */
    }
    return null;
  }

  function formatBytes(size) {
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
    return `${(size / 1024 / 1024).toFixed(1)} MB`;
  }

  function formatTime(unix) {
    const date = new Date(unix * 1000);
    return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
  }

  function initial(name) {
    return Array.from(name || "?")[0];
  }

  function avatar(name, kind, extraClass) {
    return h("span", { class: `avatar k-${kind || "person"} ${extraClass || ""}`, "aria-hidden": "true" }, initial(name));
  }

  // -------------------------------------------------------------------- formatted text

  // Telegram's servers mark /commands in a bot's plain text, so that clients can make them tappable.
  const COMMAND = /(^|[\s(（“"'：:，,、])(\/[A-Za-z][A-Za-z0-9_]{0,31})(?![\w/])/g;

  function withCommands(text, entities) {
    const found = [...(entities || [])];
    for (const match of text.matchAll(COMMAND)) {
      const offset = match.index + match[1].length;
      const end = offset + match[2].length;
      if (!found.some((e) => e.offset < end && offset < e.offset + e.length)) {
        found.push({ type: "bot_command", offset, length: match[2].length });
      }
    }
    return found;
  }

  // Entities are in UTF-16 code units, which is what JavaScript strings index by.
  function renderText(text, entities, onCommand) {
    const container = h("div", { class: "text" });
    const length = text.length;
    const list = withCommands(text, entities)
      .map((e) => ({ ...e, offset: Math.max(0, e.offset), end: Math.min(length, e.offset + e.length) }))
      .filter((e) => e.end > e.offset)
      .sort((a, b) => a.offset - b.offset || b.end - a.end);
    build(text, list, 0, length, container, onCommand);
    return container;
  }

  function build(text, entities, start, end, parent, onCommand) {
    let position = start;
    let i = 0;
    while (i < entities.length) {
      const entity = entities[i];
      if (entity.offset > position) parent.append(text.slice(position, entity.offset));
      const inner = [];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < entity.end) {
        if (entities[j].end <= entity.end) inner.push(entities[j]); // partial overlaps are dropped
        j += 1;
      }
      const slice = text.slice(entity.offset, entity.end);
      const el = elementFor(entity, slice, onCommand);
      build(text, inner, entity.offset, entity.end, el, onCommand);
      parent.append(el);
      position = Math.max(position, entity.end);
      i = j;
    }
    if (position < end) parent.append(text.slice(position, end));
  }

  function elementFor(entity, slice, onCommand) {
    switch (entity.type) {
      case "bold":
        return h("b");
      case "italic":
        return h("i");
      case "underline":
        return h("u");
      case "strikethrough":
        return h("s");
      case "code":
        return h("code");
      case "pre":
        return h("pre");
      case "blockquote":
      case "expandable_blockquote":
        return h("blockquote");
      case "spoiler": {
        const el = h("span", { class: "spoiler", title: "spoiler" });
        el.addEventListener("click", () => el.classList.add("revealed"));
        return el;
      }
      case "text_link":
      case "url": {
        const href = safeUrl(entity.type === "url" ? (/^[a-z]+:/i.test(slice) ? slice : `https://${slice}`) : entity.url);
        return href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }) : h("span");
      }
      case "email":
        return h("a", { href: `mailto:${slice}` });
      case "phone_number":
        return h("a", { href: `tel:${slice.replace(/[^+\d]/g, "")}` });
      case "bot_command": {
        if (!onCommand) return h("span", { class: "command" });
        return h("span", {
          class: "command",
          role: "button",
          tabindex: "0",
          onclick: () => onCommand(slice.split("@")[0]),
          onkeydown: (event) => event.key === "Enter" && onCommand(slice.split("@")[0]),
        });
      }
      default:
        return h("span");
    }
  }

  // ------------------------------------------------------------------------------ messages

  function renderMessage(message, interactive) {
    const mine = message.sender === "user";
    const bubble = h("div", { class: "bubble" });
    if (message.photo) {
      const src = `/api/files/${encodeURIComponent(message.photo.file_id)}`;
      bubble.append(h("a", { href: src, target: "_blank", rel: "noopener" }, h("img", { class: "photo", src, alt: t("photo"), loading: "lazy" })));
    }
    if (message.document) {
      const doc = message.document;
      const href = `/api/files/${encodeURIComponent(doc.file_id)}?download=1`;
      bubble.append(
        h(
          "a",
          { class: "doc", href, download: doc.file_name || "file", title: t("download") },
          h("span", { class: "doc-icon", "aria-hidden": "true" }, "⬇"),
          h("span", null, h("div", { class: "doc-name" }, doc.file_name || "file"), h("div", { class: "doc-size" }, formatBytes(doc.size))),
        ),
      );
    }
    if (message.contact) {
      const c = message.contact;
      const name = [c.first_name, c.last_name].filter(Boolean).join(" ");
      bubble.append(
        h(
          "div",
          { class: "contact-card" },
          avatar(name, "person"),
          h("div", null, h("div", { class: "doc-name" }, name || t("contact")), h("div", { class: "doc-size" }, formatPhone(c.phone_number))),
        ),
      );
    }
    const text = message.text ?? message.caption;
    const meta = h("span", { class: "meta" }, message.edited ? `${t("edited")} ` : "", formatTime(message.date));
    if (text) {
      const body = renderText(text, message.entities, interactive && !mine ? (command) => sendText(command) : null);
      body.append(meta);
      bubble.append(body);
    } else {
      bubble.append(meta);
    }
    const wrapper = h("div", { class: `msg ${mine ? "user" : "bot"}`, dataset: { messageId: message.message_id } }, bubble);
    const inline = message.reply_markup && message.reply_markup.inline_keyboard;
    if (inline && inline.length) wrapper.append(renderInlineKeyboard(message, inline, interactive));
    return wrapper;
  }

  function formatPhone(phone) {
    const digits = String(phone || "").replace(/[^\d]/g, "");
    if (digits.startsWith("86") && digits.length === 13) {
      return `+86 ${digits.slice(2, 5)} ${digits.slice(5, 9)} ${digits.slice(9)}`;
    }
    return phone ? `+${digits}` : "";
  }

  function renderInlineKeyboard(message, rows, interactive) {
    const keyboard = h("div", { class: "inline-keyboard" });
    for (const row of rows) {
      const line = h("div", { class: "kb-row" });
      for (const button of row) {
        const href = button.url ? safeUrl(button.url) : null;
        if (href && interactive) {
          line.append(h("a", { class: "kb-button", href, target: "_blank", rel: "noopener noreferrer" }, `${button.text} ↗`));
          continue;
        }
        const usable = interactive && typeof button.callback_data === "string";
        const el = h("button", { type: "button", class: "kb-button", disabled: !usable }, button.text);
        if (usable) el.addEventListener("click", () => press(message.message_id, button.callback_data, el));
        line.append(el);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function upsert(container, store, message, interactive) {
    const id = message.message_id;
    const existing = container.querySelector(`.msg[data-message-id="${id}"]`);
    if (message.deleted) {
      store.delete(id);
      if (existing) existing.remove();
      return;
    }
    store.set(id, message);
    const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
    const el = renderMessage(message, interactive);
    if (existing) existing.replaceWith(el);
    else {
      const empty = container.querySelector(".empty");
      if (empty) empty.remove();
      let next = null;
      for (const child of container.children) {
        if (Number(child.dataset.messageId) > id) {
          next = child;
          break;
        }
      }
      container.insertBefore(el, next);
    }
    if (nearBottom || (!existing && message.sender === "user")) container.scrollTop = container.scrollHeight;
  }

  function renderChat() {
    const container = $("messages");
    container.replaceChildren();
    const persona = state.persona;
    if (!persona) return;
    const ordered = [...state.messages.values()].sort((a, b) => a.message_id - b.message_id);
    if (!ordered.length) {
      container.append(h("div", { class: "empty" }, persona.started ? t("empty_chat_started") : t("empty_chat")));
    }
    for (const message of ordered) container.append(renderMessage(message, true));
    container.scrollTop = container.scrollHeight;
    renderComposer();
  }

  // ------------------------------------------------------------------------------ personas

  function kindLabel(kind) {
    return t(`kind_${kind || "person"}`);
  }

  function details(p) {
    const parts = [];
    if (p.group) parts.push(p.group);
    if (p.party_member) parts.push(t("party_member"));
    if (p.migrant && p.works_in) parts.push(t("works_in", { city: p.works_in }));
    if (p.relative_of) parts.push(t("relative_of", { name: p.relative_of }));
    if (p.on_roll_phone === false || p.has_phone === false) parts.push(t("no_phone_on_roll"));
    return parts.join(" · ");
  }

  function stateChips(p) {
    const chips = [];
    chips.push(h("span", { class: `chip ${p.bound ? "ok" : ""}` }, p.bound ? t("linked") : t("not_linked")));
    if (p.blocked) chips.push(h("span", { class: "chip bad" }, t("state_blocked")));
    if (p.offline) chips.push(h("span", { class: "chip warn" }, t("state_offline")));
    return chips;
  }

  function personaButton(p, onChoose) {
    const current = state.persona && state.persona.user_id === p.user_id && p.user_id !== null;
    return h(
      "li",
      null,
      h(
        "button",
        {
          type: "button",
          class: "persona",
          "aria-current": current ? "true" : "false",
          dataset: { kind: p.kind || "person", userId: p.user_id ?? "", personId: p.person_id ?? "" },
          onclick: onChoose,
        },
        avatar(p.name, p.kind),
        h(
          "span",
          { class: "persona-text" },
          h("span", { class: "persona-name" }, p.name, ...stateChips(p)),
          p.kind ? h("span", { class: "persona-role" }, kindLabel(p.kind)) : null,
          h("span", { class: "persona-details" }, details(p)),
        ),
      ),
    );
  }

  function renderFeatured() {
    const list = $("featured");
    if (!state.boot) return;
    list.replaceChildren(...state.boot.personas.map((p) => personaButton(p, () => choosePersona(p.user_id))));
  }

  function renderWhoami() {
    const bar = $("whoami");
    const p = state.persona;
    if (!p) {
      bar.replaceChildren();
      return;
    }
    const summary = [kindLabel(p.kind), details(p)].filter(Boolean).join(" · ");
    bar.replaceChildren(h("span", null, t("you_are")), h("strong", null, p.name), h("span", null, summary), ...stateChips(p));
    if (p.kind === "proxy_holder") bar.append(h("span", { class: "note" }, t("proxy_note")));
  }

  async function choosePersona(userId) {
    closeDrawers();
    try {
      const chat = await api("GET", `/api/chats/${userId}`);
      state.persona = chat.persona;
      state.messages = new Map(chat.messages.map((m) => [m.message_id, m]));
      state.waiting = chat.waiting;
      state.commands = chat.commands;
      state.cursor = chat.cursor;
      state.keyboardToggled = false;
      history.replaceState(null, "", `#u=${userId}`);
      renderFeatured();
      renderWhoami();
      renderChat();
      renderPanelPersona();
      renderSearchResults(state.lastSearch);
      connectEvents();
      if (!$("text-input").disabled && window.matchMedia("(min-width: 760px)").matches) $("text-input").focus();
    } catch (error) {
      reportError(error);
    }
  }

  async function choosePerson(personId) {
    try {
      const persona = await api("POST", `/api/people/${personId}/persona`);
      await choosePersona(persona.user_id);
    } catch (error) {
      reportError(error);
    }
  }

  async function reloadPersonas() {
    try {
      state.boot = await api("GET", "/api/bootstrap");
      renderFeatured();
      if (state.persona) {
        const chat = await api("GET", `/api/chats/${state.persona.user_id}`);
        const wasOffline = state.persona.offline;
        state.persona = chat.persona;
        state.waiting = chat.waiting;
        state.commands = chat.commands;
        if (wasOffline !== chat.persona.offline || chat.messages.length !== state.messages.size) {
          state.messages = new Map(chat.messages.map((m) => [m.message_id, m]));
          renderChat();
        }
        renderWhoami();
        renderComposer();
        renderPanelPersona();
      }
    } catch (error) {
      reportError(error);
    }
  }

  function scheduleStateRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshPersonaState, 300);
  }

  async function refreshPersonaState() {
    try {
      state.boot = await api("GET", "/api/bootstrap");
      renderFeatured();
      if (state.persona) {
        const persona = await api("GET", `/api/personas/${state.persona.user_id}`);
        if (state.persona && persona.user_id === state.persona.user_id) {
          state.persona = persona;
          renderWhoami();
          renderPanelPersona();
        }
      }
      if (state.lastSearch) search();
    } catch (_) {
      /* the next message tries again */
    }
  }

  // -------------------------------------------------------------------------------- search

  function scheduleSearch() {
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(search, 220);
  }

  async function search() {
    const query = $("people-search").value.trim();
    if (!query) {
      state.lastSearch = null;
      renderSearchResults(null);
      return;
    }
    try {
      const result = await api("GET", `/api/people?q=${encodeURIComponent(query)}&limit=30`);
      state.lastSearch = result;
      renderSearchResults(result);
    } catch (error) {
      reportError(error);
    }
  }

  function renderSearchResults(result) {
    const list = $("search-results");
    const summary = $("search-summary");
    if (!result) {
      list.replaceChildren();
      summary.textContent = "";
      return;
    }
    summary.textContent = !result.total
      ? t("search_none")
      : result.total > result.people.length
        ? t("search_more", { n: result.total, shown: result.people.length })
        : t("search_count", { n: result.total });
    list.replaceChildren(
      ...result.people.map((p) =>
        personaButton(p, () => (p.user_id ? choosePersona(p.user_id) : choosePerson(p.person_id))),
      ),
    );
  }

  // ------------------------------------------------------------------------------ composer

  function currentReplyKeyboard() {
    let keyboard = null;
    let keyboardId = 0;
    const ordered = [...state.messages.values()].sort((a, b) => a.message_id - b.message_id);
    for (const message of ordered) {
      const markup = message.reply_markup;
      if (message.sender === "bot" && markup) {
        if (markup.keyboard) {
          keyboard = markup;
          keyboardId = message.message_id;
        } else if (markup.remove_keyboard) {
          keyboard = null;
        }
      }
    }
    if (!keyboard) return null;
    const usedSince = ordered.some((m) => m.sender === "user" && m.message_id > keyboardId);
    return { markup: keyboard, collapsed: Boolean(keyboard.one_time_keyboard && usedSince) };
  }

  function renderComposer() {
    const p = state.persona;
    const startButton = $("start-button");
    const blockedBar = $("blocked-bar");
    const form = $("send-form");
    const keyboardArea = $("reply-keyboard");
    const toggle = $("keyboard-toggle");
    const banner = $("offline-banner");
    if (!p) return;
    banner.hidden = !p.offline;
    $("offline-text").textContent = state.waiting ? `${t("offline_note")} ${t("waiting", { n: state.waiting })}` : t("offline_note");
    startButton.hidden = p.started || p.blocked || p.offline;
    blockedBar.hidden = !p.blocked || p.offline;
    form.hidden = !p.started || p.blocked;
    $("text-input").disabled = p.offline;
    $("send-button").disabled = p.offline;
    $("attach-button").disabled = p.offline;
    $("menu-button").hidden = !state.commands.length;
    if (!form.hidden && $("commands").hidden === false) renderCommands();
    const current = form.hidden || p.offline ? null : currentReplyKeyboard();
    toggle.hidden = !current;
    if (!current) {
      keyboardArea.hidden = true;
      $("text-input").placeholder = t("message_placeholder");
      return;
    }
    // A one-time keyboard folds away once used; the ⌨ button flips whatever the default is.
    keyboardArea.hidden = current.collapsed !== state.keyboardToggled;
    $("text-input").placeholder = current.markup.input_field_placeholder || t("message_placeholder");
    keyboardArea.replaceChildren(
      ...current.markup.keyboard.map((row) =>
        h(
          "div",
          { class: "kb-row" },
          ...row.map((raw) => {
            const button = typeof raw === "string" ? { text: raw } : raw;
            const contact = Boolean(button.request_contact);
            const supported = contact || Object.keys(button).length === 1;
            return h(
              "button",
              {
                type: "button",
                class: `reply-button${contact ? " contact-button" : ""}`,
                disabled: !supported,
                onclick: () => replyButton(button, current.markup),
              },
              button.text,
            );
          }),
        ),
      ),
    );
  }

  async function replyButton(button, markup) {
    state.keyboardToggled = false;
    if (button.request_contact) await shareContact();
    else await sendText(button.text);
  }

  function withPersona(action) {
    const p = state.persona;
    if (!p) return Promise.resolve();
    return action(p).catch(reportError);
  }

  function sendText(text) {
    return withPersona(async (p) => {
      const message = await api("POST", `/api/chats/${p.user_id}/send`, { text });
      if (!p.started) {
        p.started = true;
      }
      upsert($("messages"), state.messages, message, true);
      renderComposer();
    });
  }

  function shareContact() {
    return withPersona(async (p) => {
      const message = await api("POST", `/api/chats/${p.user_id}/contact`);
      upsert($("messages"), state.messages, message, true);
      renderComposer();
    });
  }

  function start() {
    return withPersona(async (p) => {
      const message = await api("POST", `/api/chats/${p.user_id}/start`);
      p.started = true;
      p.blocked = false;
      upsert($("messages"), state.messages, message, true);
      renderComposer();
      renderWhoami();
    });
  }

  function press(messageId, callbackData, button) {
    return withPersona(async (p) => {
      button.classList.add("pending");
      try {
        const result = await api("POST", `/api/chats/${p.user_id}/press`, { message_id: messageId, callback_data: callbackData });
        const answer = result.answer;
        if (answer && answer.text) {
          if (answer.show_alert) showAlert(answer.text);
          else showToast(answer.text);
        }
      } finally {
        button.classList.remove("pending");
      }
    });
  }

  function upload(file) {
    return withPersona(async (p) => {
      const form = new FormData();
      form.append("file", file, file.name);
      const caption = $("text-input").value.trim();
      if (caption) form.append("caption", caption);
      const message = await api("POST", `/api/chats/${p.user_id}/upload`, form);
      $("text-input").value = "";
      upsert($("messages"), state.messages, message, true);
    });
  }

  function renderCommands() {
    const popup = $("commands");
    popup.replaceChildren(
      ...state.commands.map((command) =>
        h(
          "button",
          {
            type: "button",
            class: "command-item",
            role: "menuitem",
            onclick: () => {
              popup.hidden = true;
              sendText(`/${command.command}`);
            },
          },
          h("span", { class: "command-name" }, `/${command.command}`),
          h("span", { class: "command-desc" }, command.description),
        ),
      ),
    );
  }

  // -------------------------------------------------------------------------------- events

  function connectEvents() {
    if (state.events) state.events.close();
    const params = new URLSearchParams();
    if (state.persona) {
      params.set("chat", state.persona.user_id);
      params.set("cursor", state.cursor);
    }
    if (state.watch) {
      params.set("watch", state.watch);
      params.set("watch_cursor", state.watchCursor);
    }
    const source = new EventSource(`/api/events?${params}`);
    state.events = source;
    source.addEventListener("open", () => ($("connection").hidden = true));
    source.addEventListener("error", () => {
      $("connection").hidden = false;
      if (source.readyState === EventSource.CLOSED) setTimeout(() => state.events === source && resync(), 1500);
    });
    source.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      const message = data.message;
      if (data.everything) {
        if (data.chat_id === state.watch) upsert($("transcript"), state.watchMessages, message, false);
        return;
      }
      if (!state.persona || data.chat_id !== state.persona.user_id) return;
      upsert($("messages"), state.messages, message, true);
      if (message.sender === "bot" && message.reply_markup && (message.reply_markup.keyboard || message.reply_markup.remove_keyboard)) {
        state.keyboardToggled = false;
      }
      renderComposer();
      // What the bot said may have changed who this person is (linked, unlinked): redraw that.
      if (message.sender === "bot") scheduleStateRefresh();
    });
    source.addEventListener("waiting", (event) => {
      const data = JSON.parse(event.data);
      if (state.persona && data.chat_id === state.persona.user_id) {
        state.waiting = data.waiting;
        renderComposer();
      }
    });
    source.addEventListener("personas", () => reloadPersonas());
  }

  async function resync() {
    if (state.persona) await choosePersona(state.persona.user_id);
    else connectEvents();
  }

  // --------------------------------------------------------------------------------- panel

  function renderPanelPersona() {
    const p = state.persona;
    if (!p) return;
    $("panel-persona").textContent = `${p.name} · ${kindLabel(p.kind)} · ${p.phone}`;
    const block = $("block-toggle");
    block.textContent = p.blocked ? t("unblock") : t("block");
    block.classList.toggle("active", p.blocked);
    block.setAttribute("aria-pressed", String(p.blocked));
    const offline = $("offline-toggle");
    offline.textContent = p.offline ? t("online") : t("offline");
    offline.classList.toggle("active", p.offline);
    offline.setAttribute("aria-pressed", String(p.offline));
    const select = $("language-select");
    const languages = (state.boot && state.boot.languages) || ["zh-hans", "zh-hant", "en"];
    select.replaceChildren(...languages.map((code) => h("option", { value: code, selected: code === p.language_code }, t(`lang_${code}`))));
    select.value = p.language_code || "zh-hans";
  }

  async function personaAction(action) {
    await withPersona(async (p) => {
      state.persona = await api("POST", `/api/personas/${p.user_id}/${action}`);
      await reloadPersonas();
    });
  }

  async function refreshPanel() {
    clearTimeout(state.panelTimer);
    try {
      if (!document.hidden && panelVisible()) {
        const panel = await api("GET", "/api/panel");
        renderPanel(panel);
      }
    } catch (_) {
      /* the next round tries again */
    }
    state.panelTimer = setTimeout(refreshPanel, 1000);
  }

  function panelVisible() {
    return window.matchMedia("(min-width: 1200px)").matches || document.body.classList.contains("panel-open");
  }

  function renderPanel(panel) {
    $("rate-limits").checked = panel.rate_limits;
    const stats = panel.stats;
    const items = [
      [t("send_rate"), t("per_second", { n: stats.sends_last_second })],
      [t("max_rate"), t("per_second", { n: stats.max_send_rate_1s })],
      [t("requests"), stats.requests],
      [t("answers_429"), stats.too_many_requests],
    ];
    if (stats.violations) items.push([t("violations"), stats.violations]);
    $("stats").replaceChildren(...items.map(([label, value]) => h("div", null, h("dt", null, label), h("dd", null, String(value)))));

    const broadcasts = $("broadcasts");
    if (!panel.broadcasts.length) {
      broadcasts.replaceChildren(h("p", { class: "muted small" }, t("no_broadcasts")));
    } else {
      broadcasts.replaceChildren(...panel.broadcasts.map(renderBroadcast));
    }

    const select = $("transcript-select");
    const chats = panel.chats;
    const signature = JSON.stringify(chats.map((c) => [c.user_id, c.messages, c.blocked, c.offline])) + state.lang;
    if (signature !== state.panelSignature) {
      state.panelSignature = signature;
      const options = [h("option", { value: "" }, t("choose_chat"))];
      for (const chat of chats) {
        const flags = [chat.kind ? kindLabel(chat.kind) : null, t("messages_n", { n: chat.messages })];
        if (chat.blocked) flags.push(t("state_blocked"));
        if (chat.offline) flags.push(t("state_offline"));
        options.push(h("option", { value: chat.user_id, selected: chat.user_id === state.watch }, `${chat.name} — ${flags.filter(Boolean).join(" · ")}`));
      }
      select.replaceChildren(...options);
      select.value = state.watch ? String(state.watch) : "";
    }
  }

  function renderBroadcast(b) {
    const total = Math.max(b.total, 1);
    const percent = (n) => `${((100 * n) / total).toFixed(2)}%`;
    const counts = [
      ["sent", b.sent],
      ["pending", b.pending],
      ["failed", b.failed],
      ["unreachable", b.unreachable],
      ["skipped", b.skipped],
    ].filter(([key, n]) => n || key === "sent" || key === "pending");
    return h(
      "div",
      { class: "broadcast", dataset: { broadcastId: b.id } },
      h("div", { class: "broadcast-title" }, h("span", null, b.title), h("span", { class: `chip ${b.finished ? "ok" : "warn"}` }, b.finished ? t("finished") : t("sending"))),
      h(
        "div",
        { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(b.total), "aria-valuenow": String(b.sent) },
        h("span", { class: "sent", style: { width: percent(b.sent) } }),
        h("span", { class: "failed", style: { width: percent(b.failed) } }),
        h("span", { class: "unreachable", style: { width: percent(b.unreachable) } }),
        h("span", { class: "skipped", style: { width: percent(b.skipped) } }),
      ),
      h("div", { class: "counts" }, ...counts.map(([key, n]) => h("span", null, `${t(key)} `, h("b", null, String(n))))),
    );
  }

  async function watchChat(userId) {
    state.watch = userId || null;
    state.watchMessages = new Map();
    const container = $("transcript");
    container.replaceChildren();
    container.hidden = !state.watch;
    $("transcript-switch").hidden = !state.watch;
    if (!state.watch) {
      connectEvents();
      return;
    }
    try {
      const chat = await api("GET", `/api/chats/${userId}?all=1`);
      state.watchCursor = chat.cursor;
      for (const message of chat.messages) {
        state.watchMessages.set(message.message_id, message);
        container.append(renderMessage(message, false));
      }
      container.scrollTop = container.scrollHeight;
      connectEvents();
    } catch (error) {
      reportError(error);
    }
  }

  // -------------------------------------------------------------------------- popups, UI

  function showToast(text) {
    const toast = $("toast");
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(() => (toast.hidden = true), 2600);
  }

  function showAlert(text) {
    $("alert-text").textContent = text;
    $("alert").hidden = false;
    $("alert-ok").focus();
  }

  function openDrawer(name) {
    document.body.classList.add(`${name}-open`);
    $("scrim").hidden = false;
    if (name === "panel") refreshPanel();
  }

  function closeDrawers() {
    document.body.classList.remove("people-open", "panel-open");
    $("scrim").hidden = true;
  }

  function wire() {
    for (const button of document.querySelectorAll(".lang-switch button")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }
    $("open-people").addEventListener("click", () => openDrawer("people"));
    $("open-panel").addEventListener("click", () => openDrawer("panel"));
    $("scrim").addEventListener("click", closeDrawers);
    for (const button of document.querySelectorAll(".close-drawer")) button.addEventListener("click", closeDrawers);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        closeDrawers();
        $("commands").hidden = true;
      }
    });
    $("people-search").addEventListener("input", scheduleSearch);
    $("send-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("text-input");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      sendText(text);
    });
    $("start-button").addEventListener("click", start);
    $("restart-button").addEventListener("click", start);
    $("go-online").addEventListener("click", () => personaAction("online"));
    $("attach-button").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", () => {
      const file = $("file-input").files[0];
      $("file-input").value = "";
      if (file) upload(file);
    });
    $("menu-button").addEventListener("click", () => {
      const popup = $("commands");
      popup.hidden = !popup.hidden;
      if (!popup.hidden) renderCommands();
    });
    document.addEventListener("click", (event) => {
      if (!$("commands").hidden && !event.target.closest("#commands, #menu-button")) $("commands").hidden = true;
    });
    $("keyboard-toggle").addEventListener("click", () => {
      state.keyboardToggled = !state.keyboardToggled;
      renderComposer();
    });
    $("block-toggle").addEventListener("click", () => personaAction(state.persona && state.persona.blocked ? "unblock" : "block"));
    $("offline-toggle").addEventListener("click", () => personaAction(state.persona && state.persona.offline ? "online" : "offline"));
    $("language-select").addEventListener("change", (event) =>
      withPersona(async (p) => {
        await api("POST", `/api/personas/${p.user_id}/language`, { language_code: event.target.value });
        await reloadPersonas();
      }),
    );
    $("rate-limits").addEventListener("change", (event) =>
      api("POST", "/api/panel/rate-limits", { enabled: event.target.checked }).then(refreshPanel, reportError),
    );
    $("transcript-select").addEventListener("change", (event) => watchChat(Number(event.target.value) || null));
    $("transcript-switch").addEventListener("click", () => state.watch && choosePersona(state.watch));
    $("alert-ok").addEventListener("click", () => ($("alert").hidden = true));
    document.addEventListener("visibilitychange", () => !document.hidden && refreshPanel());
  }

  async function main() {
    let saved = null;
    try {
      saved = localStorage.getItem("cunmin-sandbox-lang");
    } catch (_) {
      /* no storage */
    }
    state.lang = saved || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en");
    applyStaticStrings();
    wire();
    try {
      state.boot = await api("GET", "/api/bootstrap");
    } catch (error) {
      reportError(error);
      return;
    }
    $("bot-name").textContent = state.boot.bot.name;
    $("bot-username").textContent = `@${state.boot.bot.username}`;
    renderFeatured();
    const fromHash = /^#u=(\d+)$/.exec(location.hash);
    const villager = state.boot.personas.find((p) => p.kind === "villager") || state.boot.personas[0];
    await choosePersona(fromHash ? Number(fromHash[1]) : villager.user_id);
    refreshPanel();
    document.body.dataset.ready = "true";
  }

  main();
})();

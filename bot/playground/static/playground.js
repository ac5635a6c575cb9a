// guildbot playground: renders the stand-in's state (Block Kit included) and sends what you do
// to it; it turns each action into a signed Slack request to the bot. No build step.
"use strict";

const params = new URLSearchParams(location.search);
// The run's token, served inside this page: the playground's API answers nothing without it.
const TOKEN = document.querySelector('meta[name="playground-token"]').content;
const S = {
  user: localStorage.getItem("playground.user") || "U0ADA",
  place: params.get("channel") || localStorage.getItem("playground.place") || "C0GENERAL",
  thread: params.get("ts") || null,
  highlight: params.get("ts") || null,
  data: null,
  version: -1,
  menu: null,
  keys: {},
  applied: 0,
  asked: 0,
  selected: {},
  elements: {},
  follow: false,
  shown: {},
  report: [],
};

const EMOJI = {
  trophy: "🏆", white_check_mark: "✅", tada: "🎉", "+1": "👍", thumbsup: "👍", heart: "❤️",
  eyes: "👀", clap: "👏", raised_hands: "🙌", rocket: "🚀", bulb: "💡", star: "⭐",
  fork_and_knife: "🍴", calendar: "📅", spiral_calendar_pad: "🗓️", books: "📚", book: "📖",
  question: "❓", speech_balloon: "💬", sparkles: "✨", mortar_board: "🎓", wave: "👋",
  warning: "⚠️", x: "❌", hourglass: "⌛", hourglass_flowing_sand: "⏳", mag: "🔍",
  pushpin: "📌", round_pushpin: "📍", busts_in_silhouette: "👥", bust_in_silhouette: "👤",
  memo: "📝", bar_chart: "📊", chart_with_upwards_trend: "📈", medal: "🏅", sports_medal: "🏅",
  first_place_medal: "🥇", muscle: "💪", handshake: "🤝", bell: "🔔", no_bell: "🔕",
  white_circle: "⚪", large_green_circle: "🟢", red_circle: "🔴", seedling: "🌱",
  hammer_and_wrench: "🛠️", label: "🏷️", link: "🔗", lock: "🔒", inbox_tray: "📥",
  outbox_tray: "📤", arrows_counterclockwise: "🔄", ok_hand: "👌", pray: "🙏", fire: "🔥",
  100: "💯", dart: "🎯", thinking_face: "🤔", heavy_check_mark: "✔️", email: "📧",
  information_source: "ℹ️", point_right: "👉", clock1: "🕐", alarm_clock: "⏰", ticket: "🎫",
};
const PICKER = ["trophy", "white_check_mark", "+1", "tada", "heart", "eyes"];
const SHORTCUTS = [
  ["give_kudos", "Give kudos"],
  ["accept_answer", "Accept answer"],
  ["remove_kudos", "Remove kudos"],
];

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const unslack = (s) => String(s ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const attr = (o) => esc(JSON.stringify(o));
const emojify = (s) => s.replace(/:([a-z0-9_+\-']+):/g, (m, n) => EMOJI[n] ?? m);

function person(id) {
  if (S.data && id === S.data.bot.id) return { id, name: "guildbot" };
  return (S.data?.people || []).find((p) => p.id === id) || { id, name: id };
}
function channelName(id) {
  const found = (S.data?.channels || []).find((c) => c.id === id);
  return found ? found.name : id;
}

// mrkdwn ------------------------------------------------------------------------------------

function slackDate(ts, format) {
  const d = new Date(Number(ts) * 1000);
  const day = (o) => d.toLocaleDateString(undefined, o);
  const pretty = (o) => {
    const today = new Date(); today.setHours(0, 0, 0, 0);
    const that = new Date(d); that.setHours(0, 0, 0, 0);
    const diff = Math.round((that - today) / 86400000);
    return diff === 0 ? "today" : diff === -1 ? "yesterday" : diff === 1 ? "tomorrow" : day(o);
  };
  const long = { weekday: "long", month: "long", day: "numeric", year: "numeric" };
  const mid = { month: "long", day: "numeric", year: "numeric" };
  const short = { month: "short", day: "numeric", year: "numeric" };
  return format.replace(/\{(\w+)\}/g, (m, k) => {
    switch (k) {
      case "date_num": return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      case "date": return day(mid);
      case "date_short": return day(short);
      case "date_long": return day(long);
      case "date_pretty": return pretty(mid);
      case "date_short_pretty": return pretty(short);
      case "date_long_pretty": return pretty(long);
      case "time": return d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
      case "time_secs": return d.toLocaleTimeString();
      case "ago": {
        const s = Math.round((Date.now() - d) / 1000);
        const a = Math.abs(s), unit = a < 3600 ? [Math.round(a / 60), "minute"] : a < 86400 ? [Math.round(a / 3600), "hour"] : [Math.round(a / 86400), "day"];
        const text = `${unit[0]} ${unit[1]}${unit[0] === 1 ? "" : "s"}`;
        return s >= 0 ? `${text} ago` : `in ${text}`;
      }
      default: return m;
    }
  });
}

function token(inner) {
  const [target, label] = [inner.split("|")[0], inner.split("|").slice(1).join("|")];
  if (target.startsWith("@")) return `<span class="mention">@${esc(person(target.slice(1)).name)}</span>`;
  if (target.startsWith("#")) return `<span class="mention">#${esc(label || channelName(target.slice(1)))}</span>`;
  if (target.startsWith("!date^")) {
    const parts = target.split("^");
    return `<time class="date" title="${esc(unslack(label))}">${esc(slackDate(parts[1], unslack(parts[2] || "{date}")))}</time>`;
  }
  if (target.startsWith("!subteam^")) return `<span class="mention">${esc(unslack(label) || "@group")}</span>`;
  if (target.startsWith("!")) return `<span class="mention">@${esc(target.slice(1))}</span>`;
  const url = unslack(target);
  return `<a href="${esc(url)}" target="_blank" rel="noopener">${esc(unslack(label || target))}</a>`;
}

function mrkdwn(text) {
  const tokens = [], codes = [];
  let s = String(text ?? "").replace(/<([^<>]+)>/g, (_, inner) => { tokens.push(token(inner)); return `\u0000${tokens.length - 1}\u0000`; });
  s = esc(unslack(s));
  s = s.replace(/```([\s\S]*?)```/g, (_, c) => { codes.push(`<pre>${c}</pre>`); return `\u0001${codes.length - 1}\u0001`; });
  s = s.replace(/`([^`\n]+)`/g, (_, c) => { codes.push(`<code>${c}</code>`); return `\u0001${codes.length - 1}\u0001`; });
  const around = "(^|[\\s(\\u0000\\u0001])";
  const after = "(?=$|[\\s).,!?:;\\u0000\\u0001])";
  s = s.replace(new RegExp(`${around}\\*([^*\\n]+)\\*${after}`, "g"), "$1<b>$2</b>");
  s = s.replace(new RegExp(`${around}_([^_\\n]+)_${after}`, "g"), "$1<i>$2</i>");
  s = s.replace(new RegExp(`${around}~([^~\\n]+)~${after}`, "g"), "$1<s>$2</s>");
  s = emojify(s);
  s = quotes(s).replace(/\n/g, "<br>");
  s = s.replace(/\u0001(\d+)\u0001/g, (_, i) => codes[i]);
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => tokens[i]);
}

// Slack quotes a line starting with ">" (here already "&gt;"), with or without a space after it;
// consecutive quoted lines make one quote.
function quotes(s) {
  const parts = [];
  for (const line of s.split("\n")) {
    const quoted = /^&gt; ?(.*)$/.exec(line);
    const last = parts[parts.length - 1];
    if (quoted && last && last.quote) last.lines.push(quoted[1]);
    else parts.push(quoted ? { quote: true, lines: [quoted[1]] } : { line });
  }
  return parts.map((p) => (p.quote ? `<blockquote>${p.lines.join("<br>")}</blockquote>` : p.line)).join("\n")
    .replace(/\n?(<blockquote>)/g, "$1").replace(/(<\/blockquote>)\n?/g, "$1");
}

function textObject(t) {
  if (!t) return "";
  if (typeof t === "string") return mrkdwn(t);
  return t.type === "mrkdwn" ? mrkdwn(t.text) : esc(emojify(t.text || ""));
}

// Block Kit ---------------------------------------------------------------------------------

function renderBlocks(blocks, ctx) {
  return (blocks || []).map((b) => `<div class="block">${renderBlock(b, ctx)}</div>`).join("");
}

function renderBlock(b, ctx) {
  switch (b.type) {
    case "section": {
      const fields = b.fields ? `<div class="fields">${b.fields.map((f) => `<div>${textObject(f)}</div>`).join("")}</div>` : "";
      const accessory = b.accessory ? `<div>${renderElement(b.accessory, ctx, b.block_id)}</div>` : "";
      return `<div class="section"><div style="flex:1">${textObject(b.text)}${fields}</div>${accessory}</div>`;
    }
    case "context":
      return `<div class="context">${(b.elements || []).map((e) => (e.type === "image" ? `<img src="${esc(e.image_url)}" alt="${esc(e.alt_text)}">` : `<span>${textObject(e)}</span>`)).join("")}</div>`;
    case "actions":
      return `<div class="actions">${(b.elements || []).map((e) => renderElement(e, ctx, b.block_id)).join("")}</div>`;
    case "divider":
      return "<hr>";
    case "header":
      return `<h3 class="header">${textObject(b.text)}</h3>`;
    case "image":
      return `<figure>${b.title ? `<figcaption>${textObject(b.title)}</figcaption>` : ""}<img src="${esc(b.image_url)}" alt="${esc(b.alt_text)}" style="max-width:100%"></figure>`;
    case "input":
      return renderInput(b, ctx);
    case "rich_text":
      return esc(JSON.stringify(b.elements || []).replace(/.*?"text":"([^"]*)"/g, "$1 ").replace(/[{}[\]"]/g, ""));
    default:
      return `<div class="muted">[${esc(b.type)} block]</div>`;
  }
}

function options(e) {
  const flat = [...(e.options || [])];
  for (const group of e.option_groups || []) flat.push(...(group.options || []));
  return flat;
}

function renderElement(e, ctx, blockId) {
  const base = { type: e.type, action_id: e.action_id, block_id: blockId };
  switch (e.type) {
    case "button": {
      const action = { ...base, value: e.value, text: e.text };
      const label = textObject(e.text);
      return `<button type="button" class="btn ${esc(e.style || "")}" data-act="action" data-ctx="${attr(ctx)}" data-action="${attr(action)}" data-testid="button">${label}</button>`;
    }
    case "static_select":
    case "overflow":
    case "users_select":
    case "conversations_select":
    case "channels_select": {
      S.elements[`${blockId}/${e.action_id}`] = e;
      let choices;
      if (e.type === "users_select") choices = S.data.people.map((p) => `<option value="${esc(p.id)}">${esc(p.name)}</option>`);
      else if (e.type.endsWith("s_select") && e.type !== "static_select") choices = S.data.channels.map((c) => `<option value="${esc(c.id)}">#${esc(c.name)}</option>`);
      else choices = options(e).map((o) => `<option value="${esc(o.value)}">${esc(emojify(o.text.text))}</option>`);
      const placeholder = e.type === "overflow" ? "⋯" : e.placeholder ? e.placeholder.text : "Choose…";
      return `<select class="btn" data-act="select" data-ctx="${attr(ctx)}" data-action="${attr(base)}"><option value="">${esc(placeholder)}</option>${choices.join("")}</select>`;
    }
    case "image":
      return `<img src="${esc(e.image_url)}" alt="${esc(e.alt_text)}" style="width:48px">`;
    default:
      return `<span class="muted">[${esc(e.type)}]</span>`;
  }
}

function selectedAction(select) {
  const base = JSON.parse(select.dataset.action);
  const e = S.elements[`${base.block_id}/${base.action_id}`] || {};
  const v = select.value;
  if (e.type === "users_select") return { ...base, selected_user: v };
  if (e.type === "conversations_select") return { ...base, selected_conversation: v };
  if (e.type === "channels_select") return { ...base, selected_channel: v };
  return { ...base, selected_option: options(e).find((o) => o.value === v) };
}

// Modal inputs ------------------------------------------------------------------------------

function renderInput(b, ctx) {
  const e = b.element || {};
  const key = `${b.block_id}/${e.action_id}`;
  S.elements[key] = e;
  const view = S.data.modal;
  const error = view && view.errors && view.errors[b.block_id];
  const wrap = (control) => `<div class="input" data-input data-block="${esc(b.block_id)}" data-aid="${esc(e.action_id)}" data-type="${esc(e.type)}" data-dispatch="${b.dispatch_action ? 1 : ""}">
    <label>${textObject(b.label)}${b.optional ? ' <span class="muted">(optional)</span>' : ""}</label>${control}
    ${b.hint ? `<div class="hint">${textObject(b.hint)}</div>` : ""}${error ? `<div class="error" data-testid="field-error">${esc(error)}</div>` : ""}</div>`;
  const name = `name="${esc(b.block_id)}"`;
  const ph = e.placeholder ? `placeholder="${esc(e.placeholder.text)}"` : "";
  switch (e.type) {
    case "plain_text_input":
      return wrap(e.multiline ? `<textarea ${name} ${ph} rows="3">${esc(e.initial_value || "")}</textarea>` : `<input type="text" ${name} ${ph} value="${esc(e.initial_value || "")}">`);
    case "number_input":
      return wrap(`<input type="number" ${name} ${ph} step="${e.is_decimal_allowed ? "any" : "1"}" value="${esc(e.initial_value || "")}">`);
    case "datetimepicker": {
      let value = "";
      if (e.initial_date_time) { const d = new Date(e.initial_date_time * 1000); value = new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); }
      return wrap(`<input type="datetime-local" ${name} value="${value}">`);
    }
    case "datepicker":
      return wrap(`<input type="date" ${name} value="${esc(e.initial_date || "")}">`);
    case "timepicker":
      return wrap(`<input type="time" ${name} value="${esc(e.initial_time || "")}">`);
    case "users_select":
    case "multi_users_select": {
      const chosen = e.initial_users || (e.initial_user ? [e.initial_user] : []);
      const multi = e.type.startsWith("multi");
      return wrap(`<select ${name} ${multi ? "multiple" : ""}>${multi ? "" : '<option value="">Choose a person…</option>'}${S.data.people.map((p) => `<option value="${esc(p.id)}" ${chosen.includes(p.id) ? "selected" : ""}>${esc(p.name)}</option>`).join("")}</select>`);
    }
    case "conversations_select":
    case "channels_select":
    case "multi_conversations_select":
    case "multi_channels_select": {
      const chosen = e.initial_conversations || e.initial_channels || [e.initial_conversation || e.initial_channel || (e.default_to_current_conversation && view ? view.channel : null)];
      const multi = e.type.startsWith("multi");
      return wrap(`<select ${name} ${multi ? "multiple" : ""}>${multi ? "" : '<option value="">Choose a channel…</option>'}${S.data.channels.map((c) => `<option value="${esc(c.id)}" ${chosen.includes(c.id) ? "selected" : ""}>#${esc(c.name)}</option>`).join("")}</select>`);
    }
    case "static_select":
    case "multi_static_select": {
      const multi = e.type.startsWith("multi");
      const chosen = (e.initial_options || (e.initial_option ? [e.initial_option] : [])).map((o) => o.value);
      return wrap(`<select ${name} ${multi ? "multiple" : ""}>${multi ? "" : '<option value="">Choose…</option>'}${options(e).map((o) => `<option value="${esc(o.value)}" ${chosen.includes(o.value) ? "selected" : ""}>${esc(emojify(o.text.text))}</option>`).join("")}</select>`);
    }
    case "radio_buttons":
    case "checkboxes": {
      const kind = e.type === "radio_buttons" ? "radio" : "checkbox";
      const chosen = (e.initial_options || (e.initial_option ? [e.initial_option] : [])).map((o) => o.value);
      return wrap(options(e).map((o) => `<label style="font-weight:normal"><input type="${kind}" ${name} value="${esc(o.value)}" ${chosen.includes(o.value) ? "checked" : ""}> ${textObject(o.text)}</label>`).join(""));
    }
    case "external_select":
    case "multi_external_select": {
      if (!(key in S.selected)) S.selected[key] = [...(e.initial_options || (e.initial_option ? [e.initial_option] : []))];
      return wrap(`<div class="chips" data-chips="${esc(key)}">${chips(key)}</div>
        <input type="text" data-suggest="${esc(key)}" data-view="${esc(ctx.view_id)}" placeholder="${esc(e.placeholder ? e.placeholder.text : "Type to search…")}" autocomplete="off">
        <div class="chips" data-options="${esc(key)}"></div>`);
    }
    default:
      return wrap(`<div class="muted">[${esc(e.type)} input]</div>`);
  }
}

function chips(key) {
  return (S.selected[key] || []).map((o, i) => `<span class="chip" data-act="unchip" data-key="${esc(key)}" data-i="${i}" title="remove">${esc(o.text.text)} ✕</span>`).join("");
}

function collectValues(form) {
  const values = {};
  for (const box of form.querySelectorAll("[data-input]")) {
    const { block, aid, type } = box.dataset;
    const e = S.elements[`${block}/${aid}`] || {};
    const field = box.querySelector("input, textarea, select");
    const v = field ? field.value : "";
    let value;
    switch (type) {
      case "plain_text_input": case "number_input": value = { value: v === "" ? null : v }; break;
      case "datetimepicker": value = { selected_date_time: v ? Math.floor(new Date(v).getTime() / 1000) : null }; break;
      case "datepicker": value = { selected_date: v || null }; break;
      case "timepicker": value = { selected_time: v || null }; break;
      case "users_select": value = { selected_user: v || null }; break;
      case "multi_users_select": value = { selected_users: [...field.selectedOptions].map((o) => o.value) }; break;
      case "conversations_select": value = { selected_conversation: v || null }; break;
      case "channels_select": value = { selected_channel: v || null }; break;
      case "multi_conversations_select": value = { selected_conversations: [...field.selectedOptions].map((o) => o.value) }; break;
      case "multi_channels_select": value = { selected_channels: [...field.selectedOptions].map((o) => o.value) }; break;
      case "static_select": value = { selected_option: options(e).find((o) => o.value === v) || null }; break;
      case "multi_static_select": value = { selected_options: options(e).filter((o) => [...field.selectedOptions].some((s) => s.value === o.value)) }; break;
      case "radio_buttons": { const c = box.querySelector("input:checked"); value = { selected_option: c ? options(e).find((o) => o.value === c.value) : null }; break; }
      case "checkboxes": { const c = [...box.querySelectorAll("input:checked")].map((i) => i.value); value = { selected_options: options(e).filter((o) => c.includes(o.value)) }; break; }
      case "external_select": value = { selected_option: (S.selected[`${block}/${aid}`] || [])[0] || null }; break;
      case "multi_external_select": value = { selected_options: S.selected[`${block}/${aid}`] || [] }; break;
      default: continue;
    }
    values[block] = { ...(values[block] || {}), [aid]: { type, ...value } };
  }
  return values;
}

// Messages ----------------------------------------------------------------------------------

function renderMessage(m, channel, inThread) {
  const author = person(m.user);
  const isBot = Boolean(m.bot_id);
  const ctx = { channel, ts: m.ts };
  const content = m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : mrkdwn(m.text);
  const files = (m.files || []).map((f) => `<a href="${esc(f.url)}" target="_blank" data-testid="file">📄 ${esc(f.title || f.name)}</a>`).join(" ");
  const reactions = (m.reactions || []).map((r) => {
    const mine = r.users.includes(S.user);
    return `<button type="button" class="reaction ${mine ? "mine" : ""}" data-act="react" data-channel="${esc(channel)}" data-ts="${esc(m.ts)}" data-name="${esc(r.name)}" data-add="${mine ? "" : 1}" title="${esc(r.users.map((u) => person(u).name).join(", "))}" data-testid="reaction-${esc(r.name)}">${EMOJI[r.name] || `:${esc(r.name)}:`} ${r.count}</button>`;
  }).join("");
  const replies = (S.data.messages[channel] || []).filter((x) => x.thread_ts === m.ts && x.ts !== m.ts).length;
  const menuKey = `${channel}/${m.ts}`;
  let menu = "";
  if (S.menu && S.menu.key === menuKey) {
    menu = S.menu.kind === "react"
      ? `<div class="menu row">${[S.data.kudos_emoji, ...PICKER.filter((p) => p !== S.data.kudos_emoji)].map((n) => `<button type="button" class="reaction" data-act="react" data-channel="${esc(channel)}" data-ts="${esc(m.ts)}" data-name="${esc(n)}" data-add="1" title=":${esc(n)}:" data-testid="pick-${esc(n)}">${EMOJI[n] || `:${esc(n)}:`}</button>`).join("")}</div>`
      : `<div class="menu">${SHORTCUTS.map(([id, label]) => `<button type="button" class="link" data-act="shortcut" data-channel="${esc(channel)}" data-ts="${esc(m.ts)}" data-callback="${id}" data-testid="shortcut-${id}">${label}</button>`).join("")}</div>`;
  }
  const tools = `<div class="tools">
      <button type="button" class="link" data-act="menu" data-kind="react" data-key="${esc(menuKey)}" data-testid="add-reaction">Add reaction</button>
      ${inThread ? "" : `<button type="button" class="link" data-act="thread" data-ts="${esc(m.ts)}" data-testid="reply">Reply in thread</button>`}
      <button type="button" class="link" data-act="menu" data-kind="shortcuts" data-key="${esc(menuKey)}" data-testid="more">More actions</button></div>`;
  const thread = !inThread && replies ? `<button type="button" class="link" data-act="thread" data-ts="${esc(m.ts)}" data-testid="replies">${replies} repl${replies === 1 ? "y" : "ies"}</button>` : "";
  return `<div class="msg ${S.highlight === m.ts ? "highlight" : ""}" data-testid="message" data-ts="${esc(m.ts)}" data-author="${esc(author.name)}">
    <div class="avatar ${isBot ? "bot" : ""}">${esc(author.name[0] || "?")}</div>
    <div class="body"><div class="meta"><b>${esc(author.name)}</b>${isBot ? '<span class="tag">APP</span>' : ""}${m.seed ? '<span class="tag seed" title="seed data">seed</span>' : ""} <time>${esc(slackDate(m.ts, "{time}"))}</time>${m.edited ? ' <span class="muted">(edited)</span>' : ""}</div>
    <div class="content">${content}</div>${files ? `<div class="files">${files}</div>` : ""}
    <div class="reactions">${reactions}</div>${thread}${tools}${menu}</div></div>`;
}

function renderEphemeral(e) {
  const ctx = { ephemeral: e.id };
  const content = e.blocks && e.blocks.length ? renderBlocks(e.blocks, ctx) : mrkdwn(e.text);
  return `<div class="msg ephemeral" data-testid="ephemeral">
    <div class="avatar bot">g</div>
    <div class="body"><div class="meta"><b>guildbot</b><span class="tag">APP</span> <time>${esc(slackDate(e.ts, "{time}"))}</time> <span class="muted">Only visible to you</span>
    <button type="button" class="link" data-act="dismiss" data-id="${esc(e.id)}">Dismiss</button></div>
    <div class="content">${content}</div></div></div>`;
}

function timeline(channel, threadTs) {
  const all = S.data.messages[channel] || [];
  const messages = threadTs
    ? all.filter((m) => m.ts === threadTs || m.thread_ts === threadTs)
    : all.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const ephemerals = S.data.ephemerals.filter((e) => !e.seed && e.channel === channel && (threadTs ? e.thread_ts === threadTs : !e.thread_ts));
  const items = [
    ...messages.map((m) => [m.ts, renderMessage(m, channel, Boolean(threadTs))]),
    ...ephemerals.map((e) => [e.ts, renderEphemeral(e)]),
  ].sort((a, b) => Number(a[0]) - Number(b[0]));
  return items.map((i) => i[1]).join("") || '<div class="empty">Nothing here yet.</div>';
}

function newest(channel, threadTs) {
  const all = (S.data.messages[channel] || []).filter((m) => !threadTs || m.thread_ts === threadTs);
  const mine = S.data.ephemerals.filter((e) => !e.seed && e.channel === channel);
  return [...all, ...mine].reduce((top, m) => (Number(m.ts) > Number(top) ? m.ts : top), "0");
}

// Rendering ---------------------------------------------------------------------------------

function paint(id, key, html) {
  if (S.keys[id] === key) return false;
  S.keys[id] = key;
  $(id).innerHTML = html();
  return true;
}

const atBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40;

// Like Slack: a channel opens at its newest message and follows new ones, unless the reader
// has scrolled up to read; then "New messages" offers the way down.
function paintFollowing(id, key, html, place, latest) {
  const el = $(id);
  const moved = S.shown[id]?.place !== place;
  const follow = moved || S.follow || atBottom(el);
  const grew = !moved && S.shown[id]?.latest !== latest;
  S.shown[id] = { place, latest };
  if (moved && id === "#main-body") $("#jump").hidden = true;
  if (!paint(id, key, html)) return;
  const marked = moved && S.highlight && el.querySelector(".msg.highlight");
  if (marked) marked.scrollIntoView({ block: "center" });
  else if (follow) el.scrollTop = el.scrollHeight;
  else if (grew && id === "#main-body") $("#jump").hidden = false;
}

function render() {
  const d = S.data;
  if (!d) return;
  const who = $("#who");
  if (!who.options.length) {
    who.innerHTML = d.people.map((p) => `<option value="${esc(p.id)}">${esc(p.name)} · ${esc(p.title)}</option>`).join("");
  }
  who.value = S.user;
  const me = person(S.user);
  const dm = d.people.find((p) => p.id === S.user).dm;
  paint("#sidebar", JSON.stringify([S.place, S.user, d.channels]), () => `
    <h3>Channels</h3>${d.channels.map((c) => `<a class="${S.place === c.id ? "on" : ""}" data-act="go" data-place="${esc(c.id)}" data-testid="channel-${esc(c.name)}"># ${esc(c.name)}</a>`).join("")}
    <h3>Apps</h3><a class="${S.place === "home" ? "on" : ""}" data-act="go" data-place="home" data-testid="app-home">guildbot · Home</a>
    <a class="${S.place === dm ? "on" : ""}" data-act="go" data-place="dm" data-testid="app-messages">guildbot · Messages</a>
    <p class="muted" style="margin:14px 6px">You are <b>${esc(me.name)}</b>. Switch above to act as someone else.</p>`);
  const place = S.place;
  const isHome = place === "home";
  const channel = d.channels.find((c) => c.id === place);
  $("#composer-form").hidden = isHome;
  paint("#main-head", JSON.stringify([place, d.qa_channel]), () =>
    isHome ? "guildbot · Home" : channel ? `# ${esc(channel.name)} <span class="muted">${esc(channel.topic)}</span>` : "guildbot · Messages <span class=\"muted\">your DM with the app</span>");
  const mainKey = JSON.stringify([place, S.user, S.menu, S.highlight, isHome ? d.home : [d.messages[place], d.ephemerals.filter((e) => e.channel === place)]]);
  if (isHome) {
    S.shown["#main-body"] = null;
    paint("#main-body", mainKey, () => `<div class="home" data-testid="home">${d.home ? renderBlocks(d.home.blocks, { view_id: d.home.id }) : '<div class="empty">Opening your App Home…</div>'}</div>`);
  } else {
    paintFollowing("#main-body", mainKey, () => timeline(place, null), `${place}/${S.user}`, newest(place, null));
  }
  if (S.thread && !isHome) {
    $("#thread").hidden = false;
    paintFollowing("#thread-body", JSON.stringify([place, S.thread, S.user, S.menu, d.messages[place], d.ephemerals]), () => timeline(place, S.thread), `${place}/${S.thread}/${S.user}`, newest(place, S.thread));
  } else {
    $("#thread").hidden = true;
  }
  S.follow = false;
  const modal = d.modal;
  paint("#modal", JSON.stringify(modal ? [modal.id, modal.hash, modal.errors] : null), () => {
    if (!modal) return "";
    const ctx = { view_id: modal.id };
    const general = modal.errors && modal.errors[""];
    return `<div class="overlay"><form class="modal" data-view="${esc(modal.id)}" data-testid="modal">
      <header>${textObject(modal.title)}</header>
      <div class="content">${general ? `<div class="form-error">${esc(general)}</div>` : ""}${renderBlocks(modal.blocks, ctx)}</div>
      <footer><button type="button" class="btn" data-act="close-modal" data-view="${esc(modal.id)}">${textObject(modal.close || { type: "plain_text", text: "Cancel" })}</button>
      ${modal.submit ? `<button type="submit" class="btn primary" data-testid="modal-submit">${textObject(modal.submit)}</button>` : ""}</footer></form></div>`;
  });
  $("#lrs").textContent = d.lrs ? `→ sent to the LRS at ${d.lrs}` : `(no LRS configured: stored in guildbot's inbuilt LRS, ${d.inbuilt_lrs})`;
  paint("#statements", JSON.stringify(d.statements), () => d.statements.map((s) => `
    <details class="statement" data-testid="statement" data-verb="${esc(s.verb)}" data-status="${esc(s.status)}">
      <summary><b>${esc(s.actor)}</b> ${esc(s.verb)} <i>${esc(s.object)}</i>${s.voiding ? ' <span class="tag">voiding</span>' : ""}
      <span class="status ${esc(!d.lrs && s.in_inbuilt_lrs && s.status === "pending" ? "stored" : s.status)}">${s.status === "sent" ? "reached the LRS" : s.status === "dead" ? "rejected" : d.lrs ? "pending" : s.in_inbuilt_lrs ? "stored in the inbuilt LRS" : "in outbox"}</span></summary>
      ${s.error ? `<div class="error">${esc(s.error)}</div>` : ""}<pre>${esc(JSON.stringify(s.body, null, 2))}</pre></details>`).join("") || '<div class="empty">No statements yet.</div>');
  paint("#requests", JSON.stringify(d.requests), () => d.requests.slice().reverse().map((r) =>
    `<div class="${r.status === 200 ? "" : "bad"}">${esc(new Date(r.at * 1000).toLocaleTimeString())} ${esc(r.label)} → ${r.status || "—"}${r.error ? ` ${esc(r.error)}` : ""} (${r.ms} ms)</div>`).join(""));
  if (S.refused) return; // the banner says why: keep it
  const seeded = Object.values(d.messages).some((list) => list.some((m) => m.seed));
  // The bot's private answers to the seed commands sent as you: folded here, not in the channel.
  const replies = d.ephemerals.filter((e) => e.seed);
  $("#banner").hidden = !seeded && !replies.length;
  paint("#banner", JSON.stringify([seeded, replies]), () => `Messages marked <span class="tag seed">seed</span> are seed data: the playground sent them through the bot as these people on first start (skills for everyone and a question). Start with <code>--no-seed</code> for an empty workspace.${replies.length ? `
    <details data-testid="seed-replies"><summary>The bot's private replies to the seed commands sent as ${esc(me.name)} (${replies.length})</summary>${replies.map(renderEphemeral).join("")}</details>` : ""}`);
}

// Talking to the stand-in -------------------------------------------------------------------

async function refresh(since) {
  const mine = ++S.asked;
  const url = `/pg/state?user=${encodeURIComponent(S.user)}${since === undefined ? "" : `&since=${since}`}`;
  const data = await call(url);
  if (mine < S.applied) return;
  S.applied = mine;
  S.data = data;
  S.version = data.version;
  render();
}

async function poll() {
  while (!S.refused) {
    try { await refresh(S.version); } catch (err) { await new Promise((r) => setTimeout(r, 1000)); }
  }
}

function toast(text) {
  const t = $("#toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// Every call to the playground's API carries the token; a refusal means this page is stale.
async function request(url, body) {
  const init = { headers: { "X-Playground-Token": TOKEN } };
  if (body !== undefined) {
    Object.assign(init, { method: "POST", body: JSON.stringify(body) });
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  if (response.status === 403 || response.status === 421) {
    S.refused = true;
    const banner = $("#banner");
    banner.textContent = await response.text();
    banner.hidden = false;
    throw new Error("refused");
  }
  return response;
}

async function call(url, body) {
  return (await request(url, body)).json();
}

// The report ------------------------------------------------------------------------------

const words = (measure) => measure.replace(/_/g, " ");
const counted = (row) => Object.entries(row).filter(([, n]) => n).map(([m, n]) => `${esc(words(m))} <b>${esc(n)}</b>`).join(" · ") || '<span class="muted">nothing</span>';

// The same report as `guildbot report --dir …`, fetched with the token (a plain link cannot
// carry it), shown in a panel with its chart and offered as files.
async function openReport() {
  const panel = $("#report");
  closeReport();
  panel.hidden = false;
  panel.innerHTML = '<div class="overlay"><div class="modal"><div class="content">Counting…</div></div></div>';
  const [json, csv, png] = await Promise.all(["json", "csv", "png"].map((f) => request(`/pg/report?format=${f}`).then((r) => r.blob())));
  const report = JSON.parse(await json.text());
  S.report = [json, csv, png].map((b) => URL.createObjectURL(b));
  const [jsonUrl, csvUrl, pngUrl] = S.report;
  const since = report.since.slice(0, 10);
  const rows = (title, table, name) => {
    const keys = Object.keys(table);
    return keys.length ? `<h4>${title}</h4><table>${keys.map((k) => `<tr><th>${esc(name(k))}</th><td>${counted(table[k])}</td></tr>`).join("")}</table>` : "";
  };
  panel.innerHTML = `<div class="overlay"><div class="modal report" data-testid="report-view">
    <header>What was done in this playground <span class="muted">since ${esc(since)} (UTC): ${esc(report.statements)} statements</span></header>
    <div class="content">
      <img src="${pngUrl}" alt="Weekly activity chart" data-testid="report-chart">
      ${rows("In total", { all: report.totals }, () => "everyone")}
      ${rows("Per person", report.people, (id) => person(id).name)}
      ${rows("Per skill", report.tags, (tag) => `#${tag}`)}
      <p>The same from a terminal (no Slack settings needed):</p>
      <pre data-testid="report-command">.venv/bin/guildbot report --dir ${esc(S.data.data_dir)} --since ${esc(since)} --format csv --chart activity.png</pre>
    </div>
    <footer><a class="btn" href="${csvUrl}" download="guildbot-report.csv" data-testid="report-csv">Download CSV</a>
      <a class="btn" href="${jsonUrl}" download="guildbot-report.json">JSON</a>
      <a class="btn" href="${pngUrl}" download="guildbot-activity.png">Chart (PNG)</a>
      <button type="button" class="btn primary" data-act="close-report">Close</button></footer></div></div>`;
}

function closeReport() {
  S.report.forEach((url) => URL.revokeObjectURL(url));
  S.report = [];
  $("#report").hidden = true;
  $("#report").innerHTML = "";
}

async function send(path, body) {
  const outcome = await call(`/pg/${path}`, { user: S.user, ...body });
  if (outcome.status && outcome.status !== 200) toast(`The bot answered ${outcome.status}${outcome.error ? `: ${outcome.error}` : ""}`);
  else if (outcome.error && outcome.error !== "not_in_threads") toast(outcome.error);
  await refresh();
  return outcome;
}

function go(place) {
  // The DM is resolved on click: the sidebar may still be drawn for the person you were.
  S.place = place === "dm" ? S.data.people.find((p) => p.id === S.user).dm : place;
  S.thread = null;
  S.menu = null;
  S.highlight = null;
  localStorage.setItem("playground.place", S.place);
  history.replaceState(null, "", "/");
  if (place === "home") send("home", {});
  else refresh();
}

document.addEventListener("click", async (event) => {
  const el = event.target.closest("[data-act]");
  if (!el) {
    if (S.menu && !event.target.closest(".menu")) { S.menu = null; render(); }
    return;
  }
  const a = el.dataset;
  switch (a.act) {
    case "go": go(a.place); break;
    case "thread": S.thread = a.ts; S.menu = null; render(); break;
    case "close-thread": S.thread = null; render(); break;
    case "menu": {
      const same = S.menu && S.menu.key === a.key && S.menu.kind === a.kind;
      S.menu = same ? null : { key: a.key, kind: a.kind };
      render();
      break;
    }
    case "react": S.menu = null; await send("react", { channel: a.channel, ts: a.ts, name: a.name, add: Boolean(a.add) }); break;
    case "shortcut": S.menu = null; await send("shortcut", { channel: a.channel, ts: a.ts, callback_id: a.callback }); break;
    case "dismiss": await send("dismiss", { id: a.id }); break;
    case "action": {
      const ctx = JSON.parse(a.ctx);
      const form = el.closest("form.modal");
      await send("click", { action: JSON.parse(a.action), ...ctx, values: form ? collectValues(form) : undefined });
      break;
    }
    case "close-modal": await send("close", { view_id: a.view }); break;
    case "report": await openReport(); break;
    case "close-report": closeReport(); break;
    case "jump": { const el = $("#main-body"); el.scrollTop = el.scrollHeight; $("#jump").hidden = true; break; }
    case "unchip": {
      S.selected[a.key].splice(Number(a.i), 1);
      document.querySelector(`[data-chips="${CSS.escape(a.key)}"]`).innerHTML = chips(a.key);
      break;
    }
    case "pick": {
      const e = S.elements[a.key] || {};
      const option = JSON.parse(a.option);
      const list = e.type === "multi_external_select" ? (S.selected[a.key] || []).filter((o) => o.value !== option.value) : [];
      S.selected[a.key] = [...list, option];
      document.querySelector(`[data-chips="${CSS.escape(a.key)}"]`).innerHTML = chips(a.key);
      document.querySelector(`[data-options="${CSS.escape(a.key)}"]`).innerHTML = "";
      const input = document.querySelector(`[data-suggest="${CSS.escape(a.key)}"]`);
      if (input) input.value = "";
      break;
    }
    default: break;
  }
});

document.addEventListener("change", async (event) => {
  const el = event.target;
  if (el.matches("select[data-act=select]") && el.value) {
    await send("click", { action: selectedAction(el), ...JSON.parse(el.dataset.ctx) });
    return;
  }
  const box = el.closest("[data-input][data-dispatch='1']");
  const form = el.closest("form.modal");
  if (box && form) {
    const values = collectValues(form);
    const { block, aid, type } = box.dataset;
    await send("click", { view_id: form.dataset.view, values, action: { type, action_id: aid, block_id: block, ...values[block][aid] } });
  }
});

let suggestTimer;
document.addEventListener("input", (event) => {
  const input = event.target.closest("[data-suggest]");
  if (!input) return;
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    const [block, aid] = input.dataset.suggest.split("/");
    const found = await call("/pg/suggest", { user: S.user, view_id: input.dataset.view, block_id: block, action_id: aid, value: input.value });
    document.querySelector(`[data-options="${CSS.escape(input.dataset.suggest)}"]`).innerHTML = (found.options || []).map((o) => `<span class="chip" data-act="pick" data-key="${esc(input.dataset.suggest)}" data-option="${attr(o)}" data-testid="suggestion">${esc(o.text.text)}</span>`).join("") || '<span class="muted">no matches</span>';
  }, 250);
});

document.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  if (form.matches("form.modal")) {
    await send("submit", { view_id: form.dataset.view, values: collectValues(form) });
    return;
  }
  const box = form.querySelector("textarea");
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  const threadTs = form.id === "thread-form" ? S.thread : null;
  S.follow = true;
  await send("type", { channel: S.place, text, thread_ts: threadTs });
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && event.target.matches(".composer textarea")) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
});

$("#who").addEventListener("change", (event) => {
  S.user = event.target.value;
  localStorage.setItem("playground.user", S.user);
  S.menu = null;
  S.keys = {};
  if (S.place.startsWith("D")) S.place = "C0GENERAL";
  if (S.place === "home") send("home", {}); else refresh();
});

$("#main-body").addEventListener("scroll", (event) => {
  if (atBottom(event.target)) $("#jump").hidden = true;
});

refresh().then(() => { if (S.place === "home") send("home", {}); poll(); });

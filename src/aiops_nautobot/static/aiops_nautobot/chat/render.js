/* Safe Markdown for the chat page: model text -> sanitised HTML.
 *
 * Two layers. marked renders Markdown with raw HTML and images turned into plain text; DOMPurify
 * then keeps only a short list of formatting elements and http(s)/mailto links. Tool output never
 * comes here: chat.js shows it as text. */
(function () {
  "use strict";

  var ALLOWED_TAGS = [
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
  ];
  var ALLOWED_ATTR = ["href", "title", "align"];
  var SAFE_URL = /^(?:https?:\/\/|mailto:)/i;

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  var markdown = new window.marked.Marked({ gfm: true, breaks: true, async: false });
  markdown.use({
    renderer: {
      // Raw HTML in the model's text is shown as the text it is.
      html: function (token) { return escapeHtml(token.text || token.raw || ""); },
      // No images at all (remote images leak the reader's address): show the alt text.
      image: function (token) { return escapeHtml(token.text || ""); },
    },
  });

  var purifier = window.DOMPurify;
  purifier.addHook("afterSanitizeAttributes", function (node) {
    if (node.tagName === "A") {
      var href = node.getAttribute("href") || "";
      if (!SAFE_URL.test(href)) {
        node.removeAttribute("href");
      } else {
        node.setAttribute("rel", "noopener noreferrer nofollow");
        node.setAttribute("target", "_blank");
      }
    }
  });
  var PURIFY_OPTIONS = {
    ALLOWED_TAGS: ALLOWED_TAGS,
    ALLOWED_ATTR: ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_URL,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    KEEP_CONTENT: true,
    ADD_ATTR: ["target", "rel"],
  };

  /** Sanitised HTML of a Markdown text. */
  function toSafeHtml(text) {
    var html = markdown.parse(String(text || ""));
    return purifier.sanitize(html, PURIFY_OPTIONS);
  }

  /** Replace the content of `element` with the rendered Markdown `text`. */
  function renderMarkdown(element, text) {
    element.innerHTML = toSafeHtml(text);
  }

  window.aiopsChatRender = { renderMarkdown: renderMarkdown, toSafeHtml: toSafeHtml };
})();

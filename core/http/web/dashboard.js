/* tandem dashboard: enhancements only; every page works without this file.
   - <time datetime> elements are rewritten in the viewer's time zone;
   - forms with data-confirm ask before they are sent;
   - a sessions calendar drawn in another zone than the viewer's (#zone[data-zone], no tz in
     the address) is asked again with tz= the viewer's zone, so its days are the viewer's;
   - the events page (#events) follows the API's event stream (EventSource, same origin,
     the session cookie; names=0: every event reaches onmessage), resuming after the last
     event it shows, then by Last-Event-ID when the browser reconnects. */
(function () {
  "use strict";
  function localTimes(root) {
    var fmt;
    try { fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }); }
    catch (e) { return; }
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d.getTime())) { t.title = t.textContent; t.textContent = fmt.format(d); }
    });
  }
  function viewerZone() {
    var el = document.getElementById("zone");
    if (!el || /[?&]tz=/.test(window.location.search)) return;
    var tz;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!tz || tz === el.getAttribute("data-zone")) return;
    var q = window.location.search;
    window.location.replace(window.location.pathname + (q ? q + "&" : "?") + "tz=" +
                            encodeURIComponent(tz));
  }
  function confirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  }
  function feed() {
    var list = document.getElementById("events");
    if (!list || !window.EventSource) return;
    var live = document.getElementById("live");
    var after = list.getAttribute("data-last") || "0";
    var es = new EventSource("/api/v1/events/stream?names=0&since=" + encodeURIComponent(after));
    es.onopen = function () { if (live) live.textContent = "live"; };
    es.onerror = function () { if (live) live.textContent = "reconnecting"; };
    es.onmessage = add;
    function add(msg) {
      var e;
      try { e = JSON.parse(msg.data); } catch (x) { return; }
      if (!e || !e.id || list.querySelector('[data-event="' + e.id + '"]')) return;
      var li = document.createElement("li");
      li.setAttribute("data-event", String(e.id));
      var t = document.createElement("time");
      t.setAttribute("datetime", e.at || "");
      t.textContent = e.at || "";
      var k = document.createElement("span");
      k.className = "kind";
      k.textContent = e.kind || "";
      li.appendChild(t);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(k);
      if (e.program) li.appendChild(document.createTextNode(" in " + e.program));
      if (e.actor) li.appendChild(document.createTextNode(" by " + e.actor));
      list.insertBefore(li, list.firstChild);
      localTimes(li);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    viewerZone();
    localTimes(document);
    confirms();
    feed();
  });
})();

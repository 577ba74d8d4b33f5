-- completion: a completion certificate (the badge "certificate", which
-- `tandem rewards certificate` renders as a page with a verification code) and 100 points
-- to both sides of a pair whose match completed. What "completed" means is the core's, not
-- this rule's: ev.match.completed (docs/plugin-api.md, Reward rules), the definition the
-- metrics funnel counts too (docs/metrics.md): ended by the program's end, or by
-- `tandem match end` with a reason that starts with "completed", after at least one held
-- session. One certificate per pair and person.
return tandem.reward{
  name = "completion",
  version = "1.0.0",
  api = 1,
  description = "A completion certificate and 100 points when a pair completes the program.",
  on = {
    ["match.ended"] = function(ev, ctx)
      local m = ev.match
      if not m or not m.completed then return nil end
      local held = 0
      for _, s in ipairs(m.sessions or {}) do
        if s.status == "held" then held = held + 1 end
      end
      local what = ev.program or "the program"
      local grants = {}
      for _, who in ipairs({ m.mentor_id, m.mentee_id }) do
        grants[#grants + 1] = {
          person_id = who,
          badge = "certificate",
          points = 100,
          reason = string.format("%s, %d sessions held", what, held),
          key = "certificate:" .. m.id .. ":" .. who,
        }
      end
      return grants
    end,
  },
}

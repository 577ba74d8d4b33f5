-- monthly-pulse: the program manager's monthly page. This month's sessions (from `q`),
-- the pairs that need attention with the reasons and the suggested action (from the
-- program's health, metrics.health), and the month against the one before. The month is
-- the current one (UTC), or ctx.period.month when the service publishes the month just ended
-- (publish = "monthly": the monthly-reports job, docs/service.md).
local function num(x) return x or 0 end

local function month_counts(q, program, month)
  return q.one([[
    SELECT count(*) AS total, coalesce(sum(s.status = 'held'), 0) AS held,
           coalesce(sum(s.status = 'missed'), 0) AS missed,
           coalesce(sum(s.status = 'cancelled'), 0) AS cancelled,
           coalesce(sum(s.status = 'planned'), 0) AS planned
      FROM sessions s JOIN matches m ON m.id = s.match_id JOIN programs g ON g.id = m.program_id
     WHERE g.name = ? AND substr(s.starts_at, 1, 7) = ?]], program, month)
    or { total = 0, held = 0, missed = 0, cancelled = 0, planned = 0 }
end

local function previous(month)
  local y, m = tonumber(string.sub(month, 1, 4)), tonumber(string.sub(month, 6, 7))
  if m == 1 then return string.format("%04d-12", y - 1) end
  return string.format("%04d-%02d", y, m - 1)
end

return tandem.report{
  name = "monthly-pulse", version = "1.0.0", api = 1,
  title = "Monthly pulse", publish = "monthly",
  description = "For the program manager: this month's sessions and the pairs at risk.",
  build = function(metrics, q, ctx)
    local program = ctx.program.name
    local month = ctx.period and ctx.period.month or string.sub(ctx.now_iso, 1, 7)
    local this, last = month_counts(q, program, month), month_counts(q, program, previous(month))
    local sections = {}

    sections[#sections + 1] = { heading = "Sessions this month",
      text = string.format("%d sessions in %s: %d held, %d missed, %d cancelled, %d still planned.",
        this.total, month, this.held, this.missed, this.cancelled, this.planned),
      chart = { type = "bar", title = "Sessions: " .. previous(month) .. " and " .. month,
        y_label = "sessions", labels = { "held", "missed", "cancelled", "planned" },
        series = { { name = previous(month), values = { last.held, last.missed, last.cancelled, last.planned } },
                   { name = month, values = { this.held, this.missed, this.cancelled, this.planned } } } } }

    local rows = q.rows([[
      SELECT s.id AS id, substr(s.starts_at, 1, 16) AS starts, s.status AS status,
             a.name AS mentor, b.name AS mentee
        FROM sessions s JOIN matches m ON m.id = s.match_id JOIN programs g ON g.id = m.program_id
        JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = m.mentee_id
       WHERE g.name = ? AND substr(s.starts_at, 1, 7) = ? ORDER BY s.starts_at, s.id LIMIT 500]],
      program, month)
    local list = {}
    for i, r in ipairs(rows) do list[i] = { r.id, r.starts, r.mentor, r.mentee, r.status } end
    sections[#sections + 1] = { heading = "This month's sessions",
      table = { columns = { "session", "starts (UTC)", "mentor", "mentee", "status" }, rows = list } }

    local health = metrics.health
    if health == nil then
      sections[#sections + 1] = { heading = "Pairs at risk",
        text = "Program health is not available in this build." }
    else
      local c = health.counts or {}
      sections[#sections + 1] = { heading = "Pair health",
        text = string.format("%d on track, %d need a check-in, %d at risk, %d too early to tell.",
          num(c.on_track), num(c.needs_checkin), num(c.at_risk), num(c.too_early)),
        chart = { type = "bar", title = "Pairs by health", y_label = "pairs",
          labels = { "on track", "needs check-in", "at risk", "too early" },
          series = { { name = "pairs", values = { num(c.on_track), num(c.needs_checkin),
            num(c.at_risk), num(c.too_early) } } } } }
      local risk = {}
      for _, p in ipairs(health.pairs or {}) do
        if p.status == "at_risk" or p.status == "needs_checkin" then
          for _, why in ipairs(p.reasons or {}) do
            risk[#risk + 1] = { p.match_id, (p.mentor or {}).name or "", (p.mentee or {}).name or "",
              string.gsub(p.status, "_", " "), why.text or why.code or "", why.action or "" }
          end
        end
      end
      sections[#sections + 1] = { heading = "Pairs that need attention",
        text = #risk > 0 and "Each reason with the suggested action: nudge the pair, check in with them, or rematch."
          or "No pair needs attention.",
        table = { columns = { "match", "mentor", "mentee", "status", "reason", "action" }, rows = risk } }
      local overlaps = {}
      for i, o in ipairs(health.overlaps or {}) do
        -- health.md: person {id, external_id, name}, programs [{name, starts, ends}]
        local person = o.person
        if type(person) == "table" then
          person = person.external_id and string.format("%s (%s)", person.name or "", person.external_id)
            or person.name or person.id
        end
        local names = {}
        for _, g in ipairs(o.programs or {}) do
          names[#names + 1] = type(g) == "table" and tostring(g.name) or tostring(g)
        end
        overlaps[i] = { tostring(person), table.concat(names, ", ") }
      end
      if #overlaps > 0 then
        sections[#sections + 1] = { heading = "People in overlapping programs",
          text = "Don't run programs on the same people at once.",
          table = { columns = { "person", "programs" }, rows = overlaps } }
      end
    end

    return { title = (ctx.program.title or program) .. ": monthly pulse " .. month,
      subtitle = "as of " .. string.sub(ctx.now_iso, 1, 10), sections = sections }
  end,
}

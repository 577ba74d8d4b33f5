-- program-overview: the page leadership reads. What the program achieved so far: the
-- participation funnel, sessions per month, ratings, participation by group, retention,
-- goals and the participants' own success stories. Every number comes from `metrics`
-- (docs/metrics.md) except the stories, read through `q`.
local function num(x) return x or 0 end
-- A rate or a mean that does not exist (nil: nothing to divide by, docs/metrics.md) shows
-- as "-", never as a zero: "0%" of no session due, or "mean 0.0" of no rating, would read
-- as a failing program.
local function dash(x) if x == nil then return "-" end return x end
local function pct(x) if x == nil then return "-" end return string.format("%.0f%%", x * 100) end

-- Check-in comments whose author ticked "share my story" (feedback.share_story), newest
-- first. Only the author's first name and side are shown: sharing the story is the consent,
-- but not before the notes are visible at all: both sides of the session have rated, or
-- 7 days have passed since its end (the hidden-until-both-rated rule, docs/cli.md).
local function stories(q, program, now)
  return q.rows([[
    SELECT f.comment AS comment, substr(f.created_at, 1, 10) AS day,
           CASE WHEN instr(p.name, ' ') > 0 THEN substr(p.name, 1, instr(p.name, ' ') - 1)
                ELSE p.name END AS first_name,
           CASE WHEN p.id = m.mentor_id THEN 'mentor' ELSE 'mentee' END AS side
      FROM feedback f JOIN matches m ON m.id = f.match_id
      JOIN programs g ON g.id = m.program_id JOIN people p ON p.id = f.author_id
      JOIN sessions s ON s.id = f.session_id
      LEFT JOIN feedback fr ON fr.session_id = f.session_id AND fr.author_id = m.mentor_id
      LEFT JOIN feedback fe ON fe.session_id = f.session_id AND fe.author_id = m.mentee_id
     WHERE g.name = ? AND f.share_story = 1 AND f.comment IS NOT NULL AND f.comment <> ''
       AND ((fr.rating IS NOT NULL AND fe.rating IS NOT NULL)
            OR ? >= CAST(strftime('%s', s.starts_at) AS INTEGER) + 60 * s.duration_min + 7 * 86400)
     ORDER BY f.created_at DESC, f.id DESC LIMIT 20]], program, now)
end

local function group_section(part, key, label)
  local rows = part and part[key] or {}
  if #rows == 0 then return nil end
  local labels, enrolled, matched, active = {}, {}, {}, {}
  for i, g in ipairs(rows) do
    labels[i], enrolled[i], matched[i], active[i] = g.group, num(g.enrolled), num(g.matched), num(g.active)
  end
  return { heading = "Participation by " .. label,
    chart = { type = "bar", title = "Participation by " .. label, x_label = label, y_label = "people",
      labels = labels, series = { { name = "enrolled", values = enrolled },
        { name = "matched", values = matched }, { name = "active", values = active } } } }
end

return tandem.report{
  name = "program-overview", version = "1.0.0", api = 1,
  title = "Program overview", publish = "monthly",
  description = "For leadership: funnel, sessions, ratings, participation, retention, stories.",
  build = function(metrics, q, ctx)
    local f, s, r = metrics.funnel or {}, metrics.sessions or {}, metrics.ratings or {}
    local e = metrics.enrollment or {}
    local sections = {}
    local function add(x) if x then sections[#sections + 1] = x end end

    local due = s.held_rate and string.format("%d sessions held, %s of those that were due.",
      num(s.held), pct(s.held_rate)) or "No session was due yet."
    local rated = r.mean and string.format("Mean rating %.1f of 5 from %d ratings.", r.mean,
      num(r.count)) or "No rating yet."
    add({ heading = "At a glance",
      text = string.format("%d people enrolled, %d matched (%s). %s %s", num(f.enrolled),
        num(f.matched), pct(e.match_rate), due, rated),
      table = { columns = { "measure", "value" }, rows = {
        { "enrolled", num(f.enrolled) }, { "matched", num(f.matched) },
        { "match rate", pct(e.match_rate) }, { "sessions held", num(s.held) },
        { "sessions missed", num(s.missed) }, { "sessions cancelled", num(s.cancelled) },
        { "sessions planned", num(s.planned) }, { "held rate", pct(s.held_rate) },
        { "ratings", num(r.count) }, { "mean rating", dash(r.mean) } } } })

    add({ heading = "Participation funnel",
      text = "From enrolment to a completed mentorship: each step counts people.",
      chart = { type = "funnel", title = "Participation funnel",
        labels = { "enrolled", "matched", "first session", "active", "completed" },
        series = { { name = "people", values = { num(f.enrolled), num(f.matched),
          num(f.first_session), num(f.active), num(f.completed) } } } } })

    local months = s.per_month or {}
    if #months > 0 then
      local labels, held, missed, cancelled, planned = {}, {}, {}, {}, {}
      for i, m in ipairs(months) do
        labels[i], held[i], missed[i] = m.month, num(m.held), num(m.missed)
        cancelled[i], planned[i] = num(m.cancelled), num(m.planned)
      end
      add({ heading = "Sessions per month",
        chart = { type = "stacked", title = "Sessions per month", x_label = "month",
          y_label = "sessions", labels = labels, series = {
            { name = "held", values = held }, { name = "missed", values = missed },
            { name = "cancelled", values = cancelled }, { name = "planned", values = planned } } } })
    end

    local dist = r.distribution or {}
    add({ heading = "Ratings",
      text = r.mean and string.format("%d ratings, mean %.2f.", num(r.count), r.mean)
        or "No rating yet.",
      chart = { type = "histogram", title = "Rating distribution", x_label = "rating",
        y_label = "ratings", labels = { "1", "2", "3", "4", "5" },
        series = { { name = "ratings", values = { num(dist[1]), num(dist[2]), num(dist[3]),
          num(dist[4]), num(dist[5]) } } } } })

    local part = metrics.participation
    add(group_section(part, "department", "department"))
    add(group_section(part, "location", "location"))
    add(group_section(part, "level", "level"))
    add(group_section(part, "generation", "generation"))

    local ret = metrics.retention
    if ret and ret.participants then
      -- A group of nobody (n = 0, rate nil) has no share: "-" in the table and no bar,
      -- never a 0 % that reads as "every participant left".
      local groups = { { "participants", ret.participants }, { "non-participants", ret.non_participants or {} } }
      local rows, labels, values = {}, {}, {}
      for _, g in ipairs(groups) do
        rows[#rows + 1] = { g[1], num(g[2].n), num(g[2].retained), pct(g[2].rate) }
        if g[2].rate ~= nil then
          labels[#labels + 1] = g[1]
          values[#values + 1] = math.floor(g[2].rate * 1000 + 0.5) / 10
        end
      end
      local text = "Share of people still employed, participants against everyone else."
      if ret.participants.rate == nil then
        text = text .. " No participant yet: their share shows as \"-\"."
      end
      add({ heading = "Retention", text = text,
        table = { columns = { "group", "people", "retained", "rate" }, rows = rows },
        chart = #labels > 0 and { type = "bar", title = "Retention", y_label = "retained (%)",
          labels = labels, series = { { name = "retained", values = values } } } or nil })
    end

    local goals = metrics.goals or {}
    if #goals > 0 then
      local rows = {}
      for i, g in ipairs(goals) do
        rows[i] = { g.topic, num(g.n), dash(g.start_mean), dash(g.end_mean), dash(g.delta) }
      end
      add({ heading = "Goals", text = "Self-assessed skill (1-5) at the start and at the end, per topic"
          .. " (\"-\" where nobody has assessed it twice yet).",
        table = { columns = { "topic", "people", "start", "end", "change" }, rows = rows } })
    end

    local rows = {}
    for i, st in ipairs(stories(q, ctx.program.name, ctx.now)) do
      rows[i] = { st.day, st.first_name .. " (" .. st.side .. ")", st.comment }
    end
    add({ heading = "Success stories",
      text = #rows > 0 and "In the participants' own words, shared for the newsletter."
        or "No participant has shared a story yet.",
      table = { columns = { "date", "who", "story" }, rows = rows } })

    return { title = (ctx.program.title or ctx.program.name) .. ": program overview",
      subtitle = (ctx.organization and (ctx.organization .. ", ") or "") .. "as of "
        .. string.sub(ctx.now_iso, 1, 10), sections = sections }
  end,
}

-- mentor-recognition: who carried the program. Sessions each mentor held, their mean
-- rating from mentees (visible ratings only: both sides rated, or 7 days passed), and
-- the points and badges of the reward ledger when it exists (metrics.rewards).
local function num(x) return x or 0 end

return tandem.report{
  name = "mentor-recognition", version = "1.0.0", api = 1,
  title = "Mentor recognition",
  description = "Mentors by sessions held and ratings, with reward totals.",
  build = function(metrics, q, ctx)
    local rows = q.rows([[
      SELECT p.name AS mentor, count(DISTINCT s.id) AS held, count(DISTINCT m.id) AS pairs
        FROM matches m JOIN programs g ON g.id = m.program_id JOIN people p ON p.id = m.mentor_id
        JOIN sessions s ON s.match_id = m.id AND s.status = 'held'
       WHERE g.name = ? GROUP BY p.id ORDER BY held DESC, p.name LIMIT 25]], ctx.program.name)
    local list, labels, values = {}, {}, {}
    for i, r in ipairs(rows) do
      list[i] = { i, r.mentor, r.pairs, r.held }
      if i <= 12 then labels[i], values[i] = r.mentor, r.held end
    end
    local sections = {
      { heading = "Mentors by sessions held",
        text = #list > 0 and "The mentors who held the most sessions with their mentees."
          or "No session has been held yet.",
        table = { columns = { "rank", "mentor", "pairs", "sessions held" }, rows = list } },
    }
    if #labels > 0 then
      sections[1].chart = { type = "bar", title = "Sessions held per mentor", y_label = "sessions",
        labels = labels, series = { { name = "held", values = values } } }
    end
    local rw = metrics.rewards
    if rw then
      sections[#sections + 1] = { heading = "Rewards",
        text = string.format("%d points and %d badges granted to %d people.", num(rw.points),
          num(rw.badges), num(rw.people)),
        table = { columns = { "points", "badges", "grants", "people" },
          rows = { { num(rw.points), num(rw.badges), num(rw.grants), num(rw.people) } } } }
    end
    local r = metrics.ratings or {}
    local mentee = r.mentee or {}
    sections[#sections + 1] = { heading = "How mentees rate their mentors",
      text = mentee.count and mentee.mean and string.format("%d ratings by mentees, mean %.2f of 5.",
        num(mentee.count), mentee.mean)
        or r.mean and string.format("%d ratings in all, mean %.2f of 5.", num(r.count), r.mean)
        or "No rating yet." }
    return { title = (ctx.program.title or ctx.program.name) .. ": mentor recognition",
      subtitle = "as of " .. string.sub(ctx.now_iso, 1, 10), sections = sections }
  end,
}

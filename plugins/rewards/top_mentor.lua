-- top_mentor: a badge for mentors whose mentee rates them highly: a mean of at least 4.5
-- over at least 3 of the mentee's ratings of the pair's sessions. Only ratings visible
-- under the hidden-until-both-rated rule count (ev.match.ratings holds only those).
-- Given once per pair. Checked when feedback is given, and when a one-sided rating becomes
-- visible because its window closed (feedback.revealed).
local MIN_RATINGS, MIN_MEAN = 3, 4.5

local function check(ev)
  local m = ev.match
  if not m or not m.ratings then return nil end
  local n, sum = 0, 0
  for _, r in ipairs(m.ratings) do
    if r.by == "mentee" then
      n = n + 1
      sum = sum + r.rating
    end
  end
  if n >= MIN_RATINGS and sum / n >= MIN_MEAN then
    return { {
      person_id = m.mentor_id,
      badge = "top-mentor",
      points = 50,
      reason = string.format("rated %.1f by their mentee over %d sessions", sum / n, n),
      key = "top-mentor:" .. m.id,
    } }
  end
  return nil
end

return tandem.reward{
  name = "top_mentor",
  version = "1.1.0",
  api = 1,
  description = "Badge top-mentor: the mentee's visible ratings average 4.5 or more over 3 or more.",
  on = {
    ["feedback.given"] = function(ev, ctx) return check(ev) end,
    ["feedback.revealed"] = function(ev, ctx) return check(ev) end,
  },
}

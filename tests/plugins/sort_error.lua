-- Fixture: an error raised inside a table.sort comparator.
return tandem.policy{
  name = "sort_error", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local t = {3, 1, 2} table.sort(t, function(a, b) error("comparator failed") end) return t[1]
  end,
}

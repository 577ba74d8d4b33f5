-- Fixture: one huge allocation inside a C function (memory budget).
return tandem.policy{
  name = "huge_rep", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return #string.rep("x", 1 << 30)
  end,
}

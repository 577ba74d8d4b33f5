-- Fixture: tries rawset on the tandem table.
return tandem.policy{
  name = "tandem_rawset", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    rawset(tandem, "log", print) return 1
  end,
}

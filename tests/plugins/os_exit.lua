-- Fixture: tries os.exit.
return tandem.policy{
  name = "os_exit", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    os.exit(3) return 1
  end,
}

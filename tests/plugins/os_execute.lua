-- Fixture: tries os.execute.
return tandem.policy{
  name = "os_execute", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    os.execute("touch /tmp/tandem-pwned") return 1
  end,
}

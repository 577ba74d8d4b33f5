-- Fixture: tries os.getenv.
return tandem.policy{
  name = "os_getenv", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return os.getenv("HOME")
  end,
}

-- Fixture (tandem match run): a score hook that tries to read a file.
return tandem.policy{
  name = "policy_io", version = "1.0.0", api = 1,
  weights = { topic_fit = 1 },
  score = function(mentor, mentee, f)
    local fh = io.open("/etc/passwd")
    return fh and 1 or 0
  end,
}

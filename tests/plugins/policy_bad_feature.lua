-- Fixture: a weight on a feature that does not exist (an error at load time).
return tandem.policy{
  name = "policy_bad_feature", version = "1.0.0", api = 1,
  weights = { topic_fit = 2, seniority = 1 },
}

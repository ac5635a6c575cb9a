"""guildbot's inbuilt Learning Record Store: the xAPI 1.0.3 resources under /xapi/.

`routes` mounts them; `http` admits each request (keys, version header, alternate syntax);
`statements` and `documents` are the resources; `validation`, `params`, `formats`,
`multipart` and `signatures` are pure rules; `credentials` manages the HTTP Basic keys;
`replay` copies everything stored to another LRS. The data lives in
`storage.repositories.lrs_*`.
"""

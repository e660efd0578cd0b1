-- Nonces of every signed route, not only submit: which route used a nonce, so that a
-- repeated cancel with the same nonce is answered with the job's current state, and a
-- nonce used by one route is refused by another.
ALTER TABLE nonces ADD COLUMN route TEXT NOT NULL DEFAULT 'submit';

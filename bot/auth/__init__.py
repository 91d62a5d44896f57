"""Staff sign-in: passwords (argon2), signin (lockout and rate limits), sessions (the signed
cookie), csrf (form tokens), headers (Content-Security-Policy and friends). What the staff
pages share beyond that is in bot/staff/.
"""

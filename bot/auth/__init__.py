"""Staff sign-in and what every staff page shares.

passwords (argon2), signin (lockout and rate limits), sessions (the signed cookie),
csrf (form tokens), headers (Content-Security-Policy and friends), pages (templates,
who is signed in, the sign-in, "not for your role" and "not found" pages).
"""

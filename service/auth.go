package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"mpnet/service/api"
	"mpnet/service/store"
)

// A token is "mpnet_<id>_<secret>": id (16 base32 characters) names the
// row, secret (32 random bytes, base64url) proves it. The database keeps
// the secret's SHA-256 only; the presented secret's hash is compared with
// it in constant time. The "mpnet_" prefix lets secret scanners find
// leaked tokens.
const tokenPrefix = "mpnet_"

// operatorID is the id the Worker's environment token (Options.OperatorToken) goes by.
const operatorID = "operator-env"

// NewSecret makes a token: its id, the whole token string (shown once)
// and the hash to store.
func NewSecret() (id, token, hash string) {
	var idb [10]byte
	var sec [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		panic(err)
	}
	if _, err := rand.Read(sec[:]); err != nil {
		panic(err)
	}
	id = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(idb[:]))
	secret := base64.RawURLEncoding.EncodeToString(sec[:])
	return id, tokenPrefix + id + "_" + secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// parseToken splits a token into its id and secret.
func parseToken(tok string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", "", false
	}
	return id, secret, true
}

// authError is a failed authentication (401), with a message for the client.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// authenticate finds the token an Authorization header presents.
func (s *Service) authenticate(ctx context.Context, header string) (store.Token, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		if header == "" {
			return store.Token{}, &authError{"no token: send Authorization: Bearer mpnet_..."}
		}
		return store.Token{}, &authError{"the Authorization header is not \"Bearer <token>\""}
	}
	raw = strings.TrimSpace(raw)
	if s.o.OperatorToken != "" {
		// Hashing both sides first makes the comparison's time independent
		// of the lengths too.
		a, b := sha256.Sum256([]byte(raw)), sha256.Sum256([]byte(s.o.OperatorToken))
		if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
			return store.Token{ID: operatorID, Role: api.RoleOperator, Name: "operator"}, nil
		}
	}
	id, secret, ok := parseToken(raw)
	if !ok {
		return store.Token{}, &authError{"not an mpnet token (mpnet_<id>_<secret>)"}
	}
	t, err := s.st.TokenByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// Compare anyway, so that an unknown id takes as long as a wrong secret.
		subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(strings.Repeat("0", 64)))
		return store.Token{}, &authError{"unknown or revoked token"}
	}
	if err != nil {
		return store.Token{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(t.Hash)) != 1 || t.RevokedAt != 0 {
		return store.Token{}, &authError{"unknown or revoked token"}
	}
	now := s.o.Now().UnixMilli()
	if now-t.LastUsed > 3600_000 {
		if err := s.st.TouchToken(ctx, t.ID, now); err != nil {
			return store.Token{}, err
		}
	}
	return t, nil
}

// Bootstrap makes sure the database has an operator token. When it had
// none it creates one and returns it: the only time it is shown.
func Bootstrap(ctx context.Context, st *store.Store, at int64) (token string, err error) {
	if err := st.Migrate(ctx); err != nil {
		return "", err
	}
	toks, err := st.Tokens(ctx, "")
	if err != nil {
		return "", err
	}
	for _, t := range toks {
		if t.Role == api.RoleOperator && t.RevokedAt == 0 {
			return "", nil
		}
	}
	id, token, hash := NewSecret()
	err = st.CreateToken(ctx, store.Token{ID: id, Project: "", Role: api.RoleOperator, Name: "operator", Hash: hash, CreatedAt: at, CreatedBy: "bootstrap"})
	return token, err
}

// CreateProject creates a project and its first admin token (returned: the
// only time it is shown). created is false, and no token made, when the
// project exists.
func CreateProject(ctx context.Context, st *store.Store, appid, name, by string, at int64) (p api.Project, created bool, err error) {
	if err := validAppID(appid); err != nil {
		return p, false, err
	}
	if err := st.Migrate(ctx); err != nil {
		return p, false, err
	}
	created, err = st.CreateProject(ctx, store.Project{AppID: appid, Name: name, CreatedAt: at})
	if err != nil || !created {
		return api.Project{AppID: appid, Name: name}, false, err
	}
	tok, err := newToken(ctx, st, appid, "admin", api.RoleAdmin, by, at)
	if err != nil {
		return p, true, err
	}
	return api.Project{AppID: appid, Name: name, CreatedAt: at, Token: &tok}, true, nil
}

// newToken creates and stores a project token; the answer carries its secret.
func newToken(ctx context.Context, st *store.Store, project, name, role, by string, at int64) (api.Token, error) {
	id, token, hash := NewSecret()
	t := store.Token{ID: id, Project: project, Role: role, Name: name, Hash: hash, CreatedAt: at, CreatedBy: by}
	if err := st.CreateToken(ctx, t); err != nil {
		return api.Token{}, err
	}
	out := tokenInfo(t)
	out.Secret = token
	return out, nil
}

func tokenInfo(t store.Token) api.Token {
	return api.Token{ID: t.ID, Name: t.Name, Role: t.Role, Project: t.Project, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, RevokedAt: t.RevokedAt, LastUsed: t.LastUsed}
}

// validAppID accepts the ids mini programs have (wx + 16 hex digits) and,
// for test and tourist projects, any other short name of letters, digits,
// '-' and '_'.
func validAppID(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return fmt.Errorf("appid %q: want 1 to 64 characters, such as wx0123456789abcdef", s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("appid %q: only letters, digits, '-' and '_' (such as wx0123456789abcdef)", s)
		}
	}
	return nil
}

// validName accepts a token's name: 1 to 64 printable characters.
func validName(s string) error {
	if s == "" || len([]rune(s)) > 64 {
		return fmt.Errorf("name %q: want 1 to 64 characters, e.g. \"alice-laptop\" or \"ci\"", s)
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("name %q: control characters are not allowed", s)
		}
	}
	return nil
}

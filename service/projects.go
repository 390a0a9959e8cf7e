package service

import (
	"errors"
	"fmt"
	"net/http"

	"mpnet/service/api"
	"mpnet/service/store"
)

func (s *Service) whoami(w http.ResponseWriter, r *http.Request, c *caller) {
	writeJSON(w, http.StatusOK, api.Whoami{Project: c.tok.Project, Role: c.tok.Role, Name: c.tok.Name, TokenID: c.tok.ID})
}

// operatorOnly answers 403 unless the caller is the operator.
func operatorOnly(w http.ResponseWriter, c *caller) bool {
	if c.tok.Role != api.RoleOperator {
		fail(w, http.StatusForbidden, "forbidden", "only the service's operator token may list or create projects")
		return false
	}
	return true
}

func (s *Service) createProject(w http.ResponseWriter, r *http.Request, c *caller) {
	if !operatorOnly(w, c) {
		return
	}
	b, ok := readBody(w, r, 4<<10)
	if !ok {
		return
	}
	var np api.NewProject
	if err := decodeStrict(b, &np); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", "the body is not {\"appid\": \"wx...\", \"name\": \"...\"}: "+err.Error())
		return
	}
	if err := validAppID(np.AppID); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if len(np.Name) > 200 {
		fail(w, http.StatusBadRequest, "bad_request", "name: at most 200 bytes")
		return
	}
	p, created, err := CreateProject(r.Context(), s.st, np.AppID, np.Name, c.name(), s.o.Now().UnixMilli())
	if err != nil {
		s.internal(w, err)
		return
	}
	if !created {
		fail(w, http.StatusConflict, "conflict", fmt.Sprintf("project %q exists", np.AppID))
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Service) listProjects(w http.ResponseWriter, r *http.Request, c *caller) {
	if !operatorOnly(w, c) {
		return
	}
	ps, err := s.st.Projects(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []api.Project{}
	for _, p := range ps {
		out = append(out, api.Project{AppID: p.AppID, Name: p.Name, CreatedAt: p.CreatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": out})
}

func (s *Service) getProject(w http.ResponseWriter, r *http.Request, c *caller) {
	p, err := s.st.Project(r.Context(), c.appid)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no project %q", c.appid))
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Project{AppID: p.AppID, Name: p.Name, CreatedAt: p.CreatedAt})
}

func (s *Service) createToken(w http.ResponseWriter, r *http.Request, c *caller) {
	b, ok := readBody(w, r, 4<<10)
	if !ok {
		return
	}
	var nt api.NewToken
	if err := decodeStrict(b, &nt); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", "the body is not {\"name\": \"...\", \"role\": \"admin|member|ci\"}: "+err.Error())
		return
	}
	if nt.Role != api.RoleAdmin && nt.Role != api.RoleMember && nt.Role != api.RoleCI {
		fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("role %q: want admin, member or ci", nt.Role))
		return
	}
	if err := validName(nt.Name); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	t, err := newToken(r.Context(), s.st, c.appid, nt.Name, nt.Role, c.name(), s.o.Now().UnixMilli())
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Service) listTokens(w http.ResponseWriter, r *http.Request, c *caller) {
	ts, err := s.st.Tokens(r.Context(), c.appid)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []api.Token{}
	for _, t := range ts {
		out = append(out, tokenInfo(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request, c *caller) {
	ctx := r.Context()
	id := r.PathValue("id")
	ts, err := s.st.Tokens(ctx, c.appid)
	if err != nil {
		s.internal(w, err)
		return
	}
	admins, target := 0, (*store.Token)(nil)
	for i, t := range ts {
		if t.RevokedAt == 0 && t.Role == api.RoleAdmin {
			admins++
		}
		if t.ID == id {
			target = &ts[i]
		}
	}
	if target == nil || target.RevokedAt != 0 {
		fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no valid token %q in this project", id))
		return
	}
	if target.Role == api.RoleAdmin && admins == 1 {
		fail(w, http.StatusConflict, "last_admin", "this is the project's last admin token: create another admin token first")
		return
	}
	if _, err := s.st.RevokeToken(ctx, c.appid, id, s.o.Now().UnixMilli()); err != nil {
		s.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

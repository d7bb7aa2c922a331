package httpapi

import "github.com/gorilla/mux"

// RoutesOf is the router of d, for the tests that walk every route.
func RoutesOf(d Deps) *mux.Router {
	r := mux.NewRouter()
	addRoutes(r, d)
	return r
}

module github.com/dtecl/pipeline/functions/dashboard

go 1.26

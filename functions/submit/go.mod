module github.com/dtecl/pipeline/functions/submit

go 1.26

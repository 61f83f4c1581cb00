from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("knowledge/", views.search_page, name="search"),
    path("knowledge/articles/new/", views.article_new, name="article_new"),
    path("knowledge/articles/<int:pk>/", views.article_detail, name="article"),
    path("knowledge/articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("knowledge/articles/<int:pk>/archive/", views.article_archive, name="article_archive"),
    path("knowledge/articles/<int:pk>/feedback/", views.article_feedback, name="article_feedback"),
    path("knowledge/articles/<int:pk>/v<int:number>/", views.article_version, name="article_version"),
    path("knowledge/feedback/", views.feedback_report, name="feedback"),
    path("knowledge/cases/", views.case_list, name="cases"),
    path("knowledge/cases/<int:pk>/", views.case_detail, name="case"),
    path("orders/<str:number>/case/", views.case_propose, name="case_propose"),
]
